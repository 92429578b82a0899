import { expectedPublishMs, segmentNumberAt } from '../contract/epoch.ts';
import type { EventConfig } from '../contract/event-config.ts';

/**
 * What to do with a request for segment K that is not stored (DESIGN §4), decided from epoch
 * math alone so the origin, the edge and the player agree without storage lookups:
 * - gone: K is older than the DVR window, or its deadline (expected publish + D) has passed;
 * - hold: K is the live-edge segment, due within one D: wait for its PUT until the deadline;
 * - early: K is further in the future: 404 whose TTL runs out just before K is due.
 */
export type SegmentTiming =
  | { kind: 'gone'; reason: string }
  | { kind: 'hold'; untilMs: number }
  | { kind: 'early'; dueMs: number; maxAgeSeconds: number };

/** A 404 for an early segment is cached at most this long, whatever K asks for. */
export const MAX_EARLY_TTL_SECONDS = 300;
/** The early 404 expires at least this long before K is due, so the re-request arrives in time to be held. */
const EARLY_MARGIN_MS = 500;

/** First segment number still inside the DVR window at `nowMs`. */
export function windowStartK(nowMs: number, config: EventConfig): number {
  return segmentNumberAt(nowMs - config.dvrWindowSeconds * 1000, config.segmentDurationMs);
}

export function isOutsideWindow(k: number, nowMs: number, config: EventConfig): boolean {
  return k < windowStartK(nowMs, config);
}

export function segmentTiming(k: number, nowMs: number, config: EventConfig): SegmentTiming {
  const d = config.segmentDurationMs;
  if (isOutsideWindow(k, nowMs, config)) return { kind: 'gone', reason: `segment ${k} is outside the ${config.dvrWindowSeconds} s DVR window` };
  const dueMs = expectedPublishMs(k, d, config.pipelineDelayMs);
  if (nowMs > dueMs + d) return { kind: 'gone', reason: `segment ${k} was never produced (due ${new Date(dueMs).toISOString()})` };
  if (dueMs - nowMs <= d) return { kind: 'hold', untilMs: dueMs + d };
  const maxAgeSeconds = Math.min(MAX_EARLY_TTL_SECONDS, Math.max(0, Math.floor((dueMs - nowMs - EARLY_MARGIN_MS) / 1000)));
  return { kind: 'early', dueMs, maxAgeSeconds };
}

/** Cache-Control for an early 404: expires before the segment is due; `no-store` when that is under a second. */
export function earlyCacheControl(maxAgeSeconds: number): string {
  return maxAgeSeconds > 0 ? `public, max-age=${maxAgeSeconds}` : 'no-store';
}

/** The newest segment number whose expected publish time has passed at `nowMs`. */
export function newestDueK(nowMs: number, config: EventConfig): number {
  return Math.floor((nowMs - config.pipelineDelayMs) / config.segmentDurationMs) - 1;
}

/** A request for K well behind the live edge is a DVR request: shed first under load. */
export function isDvrRequest(k: number, nowMs: number, config: EventConfig): boolean {
  return k < newestDueK(nowMs, config) - config.liveEdgeSegments;
}
