import { expectedPublishMs, segmentNumberAt } from '../contract/epoch.ts';
import type { EventConfig } from '../contract/event-config.ts';

/**
 * What to do with a request for segment K that is not stored (DESIGN §4), decided from epoch
 * math and what the pipelines have published, so the origin, the edge and the player agree:
 * - gone: K is older than the DVR window; or its nominal deadline (expected publish + D) has
 *   passed and every pipeline that is up (at least one) has moved two segments past K without
 *   it; or K is more than MAX_LATENESS past that deadline, whatever the pipelines do;
 * - hold: K is due within one D, or overdue while a working pipeline may still deliver it: wait
 *   for its PUT (re-checking this verdict) until `untilMs`;
 * - early: K is further in the future, due at `dueMs` (the edge's 404 expires just before).
 *
 * Why the evidence and not the clock alone: a pipeline running 3 s behind on a loaded machine has
 * not "never produced" K, it is producing it late, and dash.js stalls for good on a 410 for a
 * segment inside the MPD window (docs/manifests.md). `pipelinesPastK` comes from
 * origin/pipeline-health.ts via EventControls.pipelinesPast().
 */
export type SegmentTiming =
  | { kind: 'gone'; reason: string; recent?: boolean }
  | { kind: 'hold'; untilMs: number }
  | { kind: 'early'; dueMs: number };

/** The most an overdue segment is waited for beyond its nominal deadline, in segment durations. */
export const MAX_LATENESS_SEGMENTS = 4;

/**
 * A segment whose deadline passed less than this long ago is "recently gone": its 410 is cached
 * only briefly, because a late pipeline may still deliver it.
 */
const RECENT_GONE_MS = 30_000;

/** First segment number still inside the DVR window at `nowMs`. */
export function windowStartK(nowMs: number, config: EventConfig): number {
  return segmentNumberAt(nowMs - config.dvrWindowSeconds * 1000, config.segmentDurationMs);
}

/**
 * `windowStart`: where the DVR window starts now, when the storage budget moved it later than
 * `dvrWindowSeconds` alone would (origin/storage-budget.ts); by default the configured window's.
 */
export function isOutsideWindow(
  k: number,
  nowMs: number,
  config: EventConfig,
  windowStart = windowStartK(nowMs, config),
): boolean {
  return k < windowStart;
}

export function segmentTiming(
  k: number,
  nowMs: number,
  config: EventConfig,
  pipelinesPastK = true,
  windowStart = windowStartK(nowMs, config),
): SegmentTiming {
  const d = config.segmentDurationMs;
  if (k < windowStart) return { kind: 'gone', reason: outsideWindowReason(k, nowMs, config, windowStart) };
  const dueMs = expectedPublishMs(k, d, config.pipelineDelayMs);
  const deadlineMs = dueMs + d;
  const hardDeadlineMs = deadlineMs + MAX_LATENESS_SEGMENTS * d;
  const gone = (): SegmentTiming => ({
    kind: 'gone',
    reason: `segment ${k} was never produced (due ${new Date(dueMs).toISOString()})`,
    recent: nowMs - deadlineMs < RECENT_GONE_MS,
  });
  if (nowMs > hardDeadlineMs) return gone();
  if (nowMs > deadlineMs) return pipelinesPastK ? gone() : { kind: 'hold', untilMs: hardDeadlineMs };
  if (dueMs - nowMs <= d) return { kind: 'hold', untilMs: hardDeadlineMs };
  return { kind: 'early', dueMs };
}

/** Why K is gone when it is before the window: the configured window, or the storage budget that shortened it. */
export function outsideWindowReason(k: number, nowMs: number, config: EventConfig, windowStart: number): string {
  return windowStart > windowStartK(nowMs, config)
    ? `segment ${k} is outside the DVR window: the storage budget evicted everything before segment ${windowStart}`
    : `segment ${k} is outside the ${config.dvrWindowSeconds} s DVR window`;
}

/** The newest segment number whose expected publish time has passed at `nowMs`. */
export function newestDueK(nowMs: number, config: EventConfig): number {
  return Math.floor((nowMs - config.pipelineDelayMs) / config.segmentDurationMs) - 1;
}

/** A request for K well behind the live edge is a DVR request: shed first under load. */
export function isDvrRequest(k: number, nowMs: number, config: EventConfig): boolean {
  return k < newestDueK(nowMs, config) - config.liveEdgeSegments;
}
