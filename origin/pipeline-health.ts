import { expectedPublishMs, segmentNumberAt } from '../contract/epoch.ts';
import type { EventConfig } from '../contract/event-config.ts';
import type { PipelineStatus } from '../contract/event-state.ts';

/** What the origin remembers about one pipeline (a row of pipeline_health). */
export interface PipelineHealth {
  pipeline: string;
  /** Newest segment number stored from it (any track). */
  lastK: number;
  lastReceivedAt: number;
  /** Arrival of its newest segment minus expected_publish(K): negative when early. */
  latenessMs: number;
  /** Whether its newest segment had defects. */
  lastDefective: boolean;
  /** Candidates stored from it (first copies and replacements). */
  segments: number;
  /** Of those, how many had defects. */
  defective: number;
  /** Count per defect name. */
  defects: Record<string, number>;
}

/**
 * Fold one stored candidate into the pipeline's health. A K further past the live edge at
 * `receivedAt` than ingest accepts (`maxSegmentsAhead`) is ignored: ingest refuses it anyway
 * (SEGMENT_NUMBER_IMPLAUSIBLE), and were one to slip through, a far-future K would make the
 * pipeline look alive and ahead of every late segment until that K came due.
 */
export function recordSegment(
  prev: PipelineHealth | undefined,
  pipeline: string,
  k: number,
  defects: string[],
  receivedAt: number,
  config: EventConfig,
): PipelineHealth | undefined {
  if (k > segmentNumberAt(receivedAt, config.segmentDurationMs) + config.maxSegmentsAhead) return prev;
  const h: PipelineHealth = prev
    ? { ...prev, defects: { ...prev.defects } }
    : {
        pipeline,
        lastK: k,
        lastReceivedAt: receivedAt,
        latenessMs: 0,
        lastDefective: false,
        segments: 0,
        defective: 0,
        defects: {},
      };
  h.segments++;
  if (defects.length > 0) h.defective++;
  for (const d of defects) h.defects[d] = (h.defects[d] ?? 0) + 1;
  // Lateness and "last defective" describe the live edge: only the newest K moves them.
  if (!prev || k >= prev.lastK) {
    h.lastK = k;
    h.lastReceivedAt = receivedAt;
    h.latenessMs = receivedAt - expectedPublishMs(k, config.segmentDurationMs, config.pipelineDelayMs);
    h.lastDefective = defects.length > 0;
  }
  return h;
}

/** The status token of x-event-state (contract/event-state.ts says what each one means). */
export function pipelineStatus(
  h: PipelineHealth,
  nowMs: number,
  config: EventConfig,
  maskedAtLiveEdge: boolean,
): PipelineStatus {
  const D = config.segmentDurationMs;
  // Down only when nothing arrived for 2·D as well: a pipeline that keeps publishing, however
  // far behind, is late, not down (and its segments are worth waiting for).
  if (nowMs - h.lastReceivedAt > 2 * D && nowMs > expectedPublishMs(h.lastK + 1, D, config.pipelineDelayMs) + D)
    return 'down';
  if (maskedAtLiveEdge) return 'masked';
  if (h.lastDefective) return 'defective';
  if (h.latenessMs > D / 2) return 'late';
  return 'ok';
}
