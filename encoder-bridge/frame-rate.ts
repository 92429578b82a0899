import { PTS_CLOCK_HZ } from '../contract/epoch.ts';

/** A frame rate as an exact fraction: 30000/1001 for 29.97. */
export interface FrameRate {
  num: number;
  den: number;
}

/** The broadcast rates a contribution feed carries. */
const KNOWN: FrameRate[] = [
  { num: 24000, den: 1001 },
  { num: 24, den: 1 },
  { num: 25, den: 1 },
  { num: 30000, den: 1001 },
  { num: 30, den: 1 },
  { num: 50, den: 1 },
  { num: 60000, den: 1001 },
  { num: 60, den: 1 },
];

/**
 * Snap an averaged frame duration (90 kHz ticks, measured from a dozen PTS) to the exact rate it
 * stands for. At 59.94 fps the feed's PTS alternate 1501/1502 ticks, so a short average is never
 * exactly 1501.5; the nearest broadcast rate within 0.05% is (59.94 and 60 differ by 0.1%).
 */
export function snapFrameRate(frameTicks90k: number): FrameRate | undefined {
  const fps = PTS_CLOCK_HZ / frameTicks90k;
  const best = KNOWN.map((r) => ({ r, err: Math.abs(r.num / r.den - fps) / fps })).sort((a, b) => a.err - b.err)[0];
  return best.err < 0.0005 ? best.r : undefined;
}

/** Exact frame duration in 90 kHz ticks (1501.5 at 59.94). */
export function frameTicks90k(rate: FrameRate): number {
  return (PTS_CLOCK_HZ * rate.den) / rate.num;
}

/**
 * The video track timescale for a frame rate: the 90 kHz MPEG clock whenever a frame is a whole
 * number of its ticks (24, 25, 29.97 = 3003, 30, 50, 60), otherwise the rate's own numerator
 * (60000 for 59.94, one frame = 1001 ticks). Every sample then has the same integer duration, so
 * the frame rate read back from a sample (manifests) is exact and no 1501/1502 alternation
 * appears in the trun. D = 2 s is a whole number of ticks in both.
 */
export function videoTimescale(rate: FrameRate | undefined): number {
  if (!rate || Number.isInteger(frameTicks90k(rate))) return PTS_CLOCK_HZ;
  return rate.num;
}

export function formatFrameRate(rate: FrameRate): string {
  return rate.den === 1 ? String(rate.num) : `${rate.num}/${rate.den}`;
}
