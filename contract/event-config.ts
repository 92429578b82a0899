import { z } from 'zod';
import { PipelineId } from './ids.ts';

/**
 * Per-event configuration shared by every tier. Each field has a default a newcomer can run with;
 * see docs/configuration.md for what each one changes.
 */
export const EventConfig = z.object({
  /** Segment duration D in milliseconds; every track of the event uses it. */
  segmentDurationMs: z.number().int().min(500).max(10_000).default(2000),
  /** How far behind real time a segment is expected to be readable: expected_publish(K) = (K+1)·D + this. */
  pipelineDelayMs: z.number().int().min(0).max(30_000).default(1500),
  /** DVR window: segments older than this are answered 410 and evicted. */
  dvrWindowSeconds: z.number().int().min(10).max(7 * 24 * 3600).default(7200),
  /** DASH suggestedPresentationDelay / HLS hold-back, in segments. */
  presentationDelaySegments: z.number().int().min(1).max(20).default(3),
  /** Candidate preference order: first valid wins. */
  pipelines: z.array(PipelineId).min(1).max(4).default(['A', 'B']),
});
export type EventConfig = z.infer<typeof EventConfig>;

export const defaultEventConfig: EventConfig = EventConfig.parse({});
