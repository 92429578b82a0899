import type { TrackDescriptor } from '../contract/track.ts';

/** How many recent segments a track's measured bitrate looks at: long enough to include scene changes, short enough to follow the encoder. */
export const BITRATE_WINDOW_SEGMENTS = 15;

export interface MeasuredBitrate {
  /** Largest clean segment in the window, as bit/s over D. */
  peak: number;
  /** Mean over the clean segments in the window, bit/s. */
  average: number;
  segments: number;
}

/**
 * Bandwidth measured from what was actually stored, per track: manifests must signal what players
 * will download, not the ladder's target (x264 overshoots its target on hard content, and an
 * E-AC-3 rung is exactly its bitrate). Only clean candidates count: a truncated copy would
 * understate. Durations are taken as D; at 29.97 fps a segment is ±1 frame of D (≤ 1.7%).
 */
export function measuredBitrates(
  sql: SqlStorage,
  newestK: number,
  segmentDurationMs: number,
): Map<string, MeasuredBitrate> {
  const rows = sql
    .exec<{ track: string; peak: number; total: number; n: number }>(
      `SELECT track, MAX(size) AS peak, SUM(size) AS total, COUNT(*) AS n FROM candidates
       WHERE k > ? AND k <= ? AND defects = '[]' GROUP BY track`,
      newestK - BITRATE_WINDOW_SEGMENTS,
      newestK,
    )
    .toArray();
  const perSecond = 8000 / segmentDurationMs;
  return new Map(
    rows.map((r) => [
      r.track,
      { peak: Math.round(r.peak * perSecond), average: Math.round((r.total / r.n) * perSecond), segments: r.n },
    ]),
  );
}

/** The descriptor as manifests should signal it now: measured bitrates when segments exist, the declared one before. */
export function withMeasuredBitrate(d: TrackDescriptor, m: MeasuredBitrate | undefined): TrackDescriptor {
  if (!m) return d;
  return { ...d, bandwidth: m.peak, averageBandwidth: m.average };
}
