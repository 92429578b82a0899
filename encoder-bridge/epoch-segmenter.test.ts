import { describe, expect, it } from 'vitest';
import { segmentTicks } from '../contract/epoch.ts';
import { NON_SYNC_SAMPLE_FLAGS, type Sample, SYNC_SAMPLE_FLAGS } from '../packager/sample.ts';
import { EpochSegmenter, type EpochSegment } from './epoch-segmenter.ts';

const D = 2000;
const T = segmentTicks(D, 90_000);
const DEFAULTS = { trackId: 1, defaultSampleDuration: 0, defaultSampleSize: 0, defaultSampleFlags: 0 };

/**
 * A video run as ffmpeg writes it: frame i at `origin + i·frameTicks` (a grid offset from the UTC
 * second; 3003 ticks at 29.97 fps puts segments of 59 and 60 frames side by side), tfdt from 0,
 * a keyframe on the first frame of every segment, each duration the distance to the next frame
 * (ffmpeg writes a fragment when the next packet arrives) and the last one the nominal duration
 * (the fragment ffmpeg writes when it finishes).
 */
function frames(origin: number, frameTicks: number, count: number): Sample[] {
  const at = (i: number) => origin + i * frameTicks;
  return Array.from({ length: count }, (_, i) => ({
    dts: at(i) - origin,
    duration: frameTicks,
    flags: i === 0 || Math.floor(at(i - 1) / T) !== Math.floor(at(i) / T) ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS,
    compositionOffset: 0,
    data: new Uint8Array([i & 0xff, i >> 8]),
  }));
}

/** The same samples as fragments per frame or per GOP; what came out after each fragment. */
function run(samples: Sample[], origin: number, grouping: 'frame' | 'gop', exact: boolean) {
  const segments: EpochSegment[] = [];
  const outAfter: number[][] = [];
  const segmenter = new EpochSegmenter({
    kind: 'video',
    init: { ...DEFAULTS, timescale: 90_000 },
    segmentDurationMs: D,
    firstSegment: Math.floor(origin / T) + 1,
    onSegment: (s) => segments.push(s),
  });
  segmenter.anchor(origin);
  const fragments: Sample[][] = [];
  for (const s of samples) {
    if (grouping === 'frame' || (s.flags === SYNC_SAMPLE_FLAGS && fragments.length > 0)) fragments.push([]);
    if (fragments.length === 0) fragments.push([]);
    fragments[fragments.length - 1].push({ ...s });
  }
  fragments.forEach((f, i) => {
    // ffmpeg finishing: its last fragment's last duration is a guess, never passed as exact.
    segmenter.pushSamples(f, exact && i < fragments.length - 1);
    outAfter.push(segments.map((s) => s.k));
  });
  segmenter.end();
  return { segments, outAfter, fragments };
}

describe('EpochSegmenter with a fragment per GOP', () => {
  for (const [name, origin, frameTicks] of [
    ['30 fps on the second', 100 * T, 3000],
    ['30 fps, grid 1,499 ticks after the second', 100 * T + 1499, 3000],
    ['29.97 fps', 100 * T + 17, 3003],
  ] as const) {
    it(`${name}: the same segments as per frame, each out as soon as its own fragment is in`, () => {
      const samples = frames(origin, frameTicks, 60 * 7 + 13);
      const perFrame = run(samples, origin, 'frame', false);
      const perGop = run(samples, origin, 'gop', true);
      expect(perFrame.segments.length).toBeGreaterThanOrEqual(6);
      expect(perGop.segments.map((s) => [s.k, s.sampleCount, s.baseMediaDecodeTime, s.defects])).toEqual(
        perFrame.segments.map((s) => [s.k, s.sampleCount, s.baseMediaDecodeTime, s.defects]),
      );
      expect(perGop.segments.map((s) => Buffer.from(s.bytes).toString('hex'))).toEqual(
        perFrame.segments.map((s) => Buffer.from(s.bytes).toString('hex')),
      );
      // Fragment i (i ≥ 1) is segment firstSegment + i − 1: out right after it, not after the next one.
      const first = perGop.segments[0].k;
      perGop.fragments.slice(1, -1).forEach((_, i) => {
        expect(perGop.outAfter[i + 1].at(-1)).toBe(first + i);
      });
      // The unfinished segment at the end (its last duration a guess) is never published.
      expect(perGop.segments.at(-1)!.k).toBe(first + perGop.fragments.length - 3);
    });
  }

  it('without exact last durations a segment waits for the next fragment, as with fragments per frame', () => {
    const origin = 100 * T + 1499;
    const samples = frames(origin, 3000, 60 * 5 + 7);
    const gop = run(samples, origin, 'gop', false);
    const first = gop.segments[0].k;
    expect(gop.outAfter[1]).toEqual([]);
    expect(gop.outAfter[2]).toEqual([first]);
    expect(gop.segments.map((s) => s.bytes)).toEqual(run(samples, origin, 'gop', true).segments.map((s) => s.bytes));
  });
});
