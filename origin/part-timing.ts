import { expectedPublishMs } from '../contract/epoch.ts';
import type { EventConfig } from '../contract/event-config.ts';
import { DEFAULT_PART_DURATION_MS, partsPerSegment, partWindowMs } from '../contract/part-grid.ts';

/** Parts per segment and the part duration of an event (contract/latency.ts `partDurationMs`). */
export function partGridOf(config: EventConfig): { parts: number; partDurationMs: number } {
  const parts = partsPerSegment(config.segmentDurationMs, config.latency?.partDurationMs ?? DEFAULT_PART_DURATION_MS);
  return { parts, partDurationMs: config.segmentDurationMs / parts };
}

/**
 * What to do with a request for part n of K that is not stored (docs/latency.md), from the clock
 * alone: parts live for seconds, so there is no pipeline evidence to weigh as for segments.
 * - early: the part starts more than one segment from now (a player asks at most a part or two
 *   ahead: the preload hint); its 404 expires when the hold would begin;
 * - hold: wait for its PUT as long as its segment would be waited for (K's due time,
 *   (K+1)·D + pipelineDelayMs), and at least a part duration past the part's own end plus the
 *   pipeline delay: a part is published when the next part's first frame is encoded, but a
 *   loaded bridge runs late, and a 410 makes a player give the part up;
 * - gone: that deadline passed without it.
 */
export type PartTiming = { kind: 'early'; dueMs: number } | { kind: 'hold'; untilMs: number } | { kind: 'gone' };

export function partTiming(k: number, n: number, nowMs: number, config: EventConfig): PartTiming {
  const { parts } = partGridOf(config);
  const holdFrom = partWindowMs(k, n, config.segmentDurationMs, parts).startMs - config.segmentDurationMs;
  if (nowMs < holdFrom) return { kind: 'early', dueMs: holdFrom };
  const untilMs = partHoldEndMs(k, n, { ...config, parts });
  return nowMs < untilMs ? { kind: 'hold', untilMs } : { kind: 'gone' };
}

/** Where the hold for part n of K ends (see PartTiming); the edge's region deadline counts from it too. */
export function partHoldEndMs(
  k: number,
  n: number,
  t: { segmentDurationMs: number; pipelineDelayMs: number; parts: number },
): number {
  const { endMs } = partWindowMs(k, n, t.segmentDurationMs, t.parts);
  return Math.max(
    expectedPublishMs(k, t.segmentDurationMs, t.pipelineDelayMs),
    endMs + t.pipelineDelayMs + t.segmentDurationMs / t.parts,
  );
}
