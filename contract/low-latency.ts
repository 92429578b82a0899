import { expectedPublishMs } from './epoch.ts';
import { DEFAULT_PART_DURATION_MS, partsPerSegment } from './part-grid.ts';
import type { Latency, LatencyConfig } from './latency.ts';

/**
 * How long after its end a part is usually stored at the origin: a part is written when the next
 * part's first frame is encoded, then PUT. Measured on a quiet machine (docs/latency.md): hls.js
 * in LL-HLS sat 2.02 s behind capture with its own latency 1.55 s from the playlist's end, so the
 * newest part reached the playlist about 0.5 s after it ended.
 */
export const PART_PUBLISH_DELAY_MS = 500;

/**
 * Whether a low-latency request for segment K (`{K}.m4s?latency=low`, docs/latency.md "Chunked
 * transfer") may be answered with a stream of K's parts: only before K's due time
 * (K+1)·D + pipelineDelayMs. From then on the standard answer applies (stored, or held and 410 by
 * the segment's own rules, with four-candidate failover and the edge cache), even if parts of a
 * late K exist. One rule for the edge, which then does not ask the origin for a stream at all,
 * and the origin, which answers "the whole segment" when the edge did not know the timing.
 */
export function streamsParts(
  k: number,
  nowMs: number,
  timing: { segmentDurationMs: number; pipelineDelayMs: number },
): boolean {
  return nowMs < expectedPublishMs(k, timing.segmentDurationMs, timing.pipelineDelayMs);
}

/** Catch-up range of a low-latency player when the event sets none (see resolveLowLatency). */
export const LOW_LATENCY_PLAYBACK_RATE = { min: 0.96, max: 1.5 };

/** The part duration P of an event: D divided into whole parts (contract/part-grid.ts). */
export function partDurationOf(config: { segmentDurationMs: number; latency?: LatencyConfig }): number {
  const D = config.segmentDurationMs;
  return D / partsPerSegment(D, config.latency?.partDurationMs ?? DEFAULT_PART_DURATION_MS);
}

/**
 * Where a low-latency DASH player should sit (LL-DASH ServiceDescription, docs/latency.md), from
 * the part duration P rather than the segment duration:
 * - target = 3·P + PART_PUBLISH_DELAY_MS: the player has the part it plays and two more on their
 *   way or in its buffer (as LL-HLS's PART-HOLD-BACK = 3 × PART-TARGET), behind the part being
 *   made and its publish delay. 2000 ms at P = 500 ms, 1500 ms at P = 333 ms.
 * - min = P + PART_PUBLISH_DELAY_MS: closer, the player would play a part before it is stored.
 * - max = target + D: a whole segment behind the target is no longer low latency.
 * - playbackRate: the event's when it sets one; else 0.96–1.5 (LOW_LATENCY_PLAYBACK_RATE), not the
 *   standard 0.96–1.04: a player that starts a part or two behind its target (its first request
 *   waits for an independent part) wins it back in seconds at 1.5×, in a minute at 1.04×. dash.js
 *   takes the MPD's PlaybackRate over its own catch-up default (±0.5), and hls.js is given 1.5
 *   by the player page for LL-HLS.
 * The event's targetMs/minMs/maxMs are the standard-latency figures and do not apply here.
 */
export function resolveLowLatency(config: {
  segmentDurationMs: number;
  pipelineDelayMs: number;
  latency?: LatencyConfig;
}): Latency & { partDurationMs: number } {
  const P = partDurationOf(config);
  const targetMs = Math.round(3 * P + PART_PUBLISH_DELAY_MS);
  return {
    partDurationMs: P,
    targetMs,
    minMs: Math.round(P + PART_PUBLISH_DELAY_MS),
    maxMs: targetMs + config.segmentDurationMs,
    playbackRate: config.latency?.playbackRate ?? LOW_LATENCY_PLAYBACK_RATE,
  };
}
