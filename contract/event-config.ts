import { z } from 'zod';
import { CaptionTracks } from './captions.ts';
import { DrmConfig } from './drm-config.ts';
import { PipelineId } from './ids.ts';
import { LatencyConfig } from './latency.ts';

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
  dvrWindowSeconds: z
    .number()
    .int()
    .min(10)
    .max(7 * 24 * 3600)
    .default(7200),
  /**
   * Superseded by `latency` (manifests no longer read it); still accepted so stored configs and
   * existing PATCH calls keep parsing.
   */
  presentationDelaySegments: z.number().int().min(1).max(20).default(3),
  /**
   * Where players should sit behind live (contract/latency.ts): DASH ServiceDescription and
   * suggestedPresentationDelay, HLS HOLD-BACK. Absent fields are derived from D and pipelineDelayMs.
   */
  latency: LatencyConfig.optional(),
  /** Candidate preference order: first valid wins. */
  pipelines: z.array(PipelineId).min(1).max(4).default(['A', 'B']),
  /**
   * Segment requests per second one origin object admits (DESIGN §5: about 1,000 per object).
   * Above it, live-edge requests are answered 503 too.
   */
  maxSegmentRequestsPerSecond: z.number().int().min(1).max(100_000).default(1000),
  /**
   * Share of that budget DVR requests may use; beyond it they are shed (503) so the rest stays
   * free for live-edge requests.
   */
  dvrShareOfRequests: z.number().min(0).max(1).default(0.7),
  /** A request for K more than this many segments behind the newest due segment is a DVR request. */
  liveEdgeSegments: z.number().int().min(1).max(100).default(6),
  /**
   * When the only candidates of a live-edge segment are defective and a pipeline that is up has
   * not delivered its copy yet, wait at most this long after the defective one arrived for it.
   */
  defectiveGraceMs: z.number().int().min(0).max(10_000).default(3000),
  /**
   * Caption languages (contract/captions.ts): manifests list a text track for each from the
   * start, before any cue arrives. Cues for an undeclared language are refused.
   */
  captions: CaptionTracks.default([]),
  /**
   * Ingest accepts segment K from the start of the DVR window up to this many segments past the
   * live edge (floor(now / D), the segment being produced now): room for a publisher whose clock
   * runs a little ahead, and no more. Anything else is refused (400 SEGMENT_NUMBER_IMPLAUSIBLE)
   * and changes nothing: one PUT of a far-future K must not make its pipeline look alive.
   */
  maxSegmentsAhead: z.number().int().min(0).max(30).default(3),
  /**
   * Bytes of segment candidates this event may keep in one region's origin object (a Durable
   * Object holds at most 10 GB). From 90% of it on, the oldest DVR segments are evicted (down to
   * 80%) and an alert is raised; the live edge is never evicted. The default leaves 2 GB of the
   * object for SQLite's own pages, inits, cues and the write in flight.
   */
  storageBudgetBytes: z
    .number()
    .int()
    .min(1_000_000)
    .max(10_000_000_000)
    .default(8 * 1024 ** 3),
  /** DRM (contract/drm-config.ts); absent: clear. Set with PUT /api/events/{event}/drm before the first init. */
  drm: DrmConfig.optional(),
  /**
   * `required`: every /live request of the event needs a valid player token (docs/player-tokens.md);
   * `off` (the default, so the demo stays open): anyone may play. The license endpoint needs a
   * token either way. Every answer's x-event-state says `tok=?1` when required.
   */
  playerTokens: z.enum(['off', 'required']).default('off'),
  /**
   * Ad breaks start and end on segment boundaries (contract/splices.ts spliceOnBoundary): a
   * splice's OUT moves to the next K·D and its IN to the boundary at or after its end, so an ad
   * server or SSAI replaces whole segments. The bridge already starts every segment with a
   * keyframe, so the boundary is a clean splice point. Default off: markers at the feed's time.
   */
  splicesOnBoundary: z.boolean().default(false),
});
export type EventConfig = z.infer<typeof EventConfig>;

export const defaultEventConfig: EventConfig = EventConfig.parse({});

/**
 * What an operator may change while the event runs (PATCH /api/events/{event}/config). D and the
 * pipeline delay are left out on purpose: changing them mid-event would renumber every segment.
 */
export const EventConfigPatch = z
  .object({
    dvrWindowSeconds: unwrapDefault(EventConfig.shape.dvrWindowSeconds),
    presentationDelaySegments: unwrapDefault(EventConfig.shape.presentationDelaySegments),
    pipelines: unwrapDefault(EventConfig.shape.pipelines),
    maxSegmentRequestsPerSecond: unwrapDefault(EventConfig.shape.maxSegmentRequestsPerSecond),
    dvrShareOfRequests: unwrapDefault(EventConfig.shape.dvrShareOfRequests),
    liveEdgeSegments: unwrapDefault(EventConfig.shape.liveEdgeSegments),
    defectiveGraceMs: unwrapDefault(EventConfig.shape.defectiveGraceMs),
    maxSegmentsAhead: unwrapDefault(EventConfig.shape.maxSegmentsAhead),
    storageBudgetBytes: unwrapDefault(EventConfig.shape.storageBudgetBytes),
    captions: CaptionTracks,
    playerTokens: unwrapDefault(EventConfig.shape.playerTokens),
    splicesOnBoundary: unwrapDefault(EventConfig.shape.splicesOnBoundary),
    /** Replaces the whole block; `{}` goes back to the derived defaults. */
    latency: LatencyConfig,
  })
  .partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, { message: 'name at least one field to change' })
  .refine((patch) => !patch.pipelines || new Set(patch.pipelines).size === patch.pipelines.length, {
    message: 'pipelines must not repeat a pipeline',
    path: ['pipelines'],
  });
export type EventConfigPatch = z.infer<typeof EventConfigPatch>;

/** The field's schema without its default: in a patch, an absent field must stay absent, not become the default. */
function unwrapDefault<T extends z.ZodType>(field: z.ZodDefault<T>): T {
  return field.unwrap() as T;
}
