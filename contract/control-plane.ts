import { z } from 'zod';
import { CaptionTracks } from './captions.ts';
import { DrmConfig } from './drm-config.ts';
import { EventConfig } from './event-config.ts';
import { EventId, PipelineId, RegionId } from './ids.ts';
import { ladders } from './ladder.ts';

/**
 * The control plane's contract (docs/control-plane.md; DESIGN §9): what an event definition holds,
 * the live operations an operator can run, and the state spokes report to the hub. The hub
 * (orchestrator/hub.ts) owns definitions; origins, bridges and edges follow them.
 */

/** The origin's own rule for the DVR window (contract/event-config.ts), without its default. */
const DvrWindow = EventConfig.shape.dvrWindowSeconds.unwrap();

/** A UTC instant in JSON: ISO 8601 with a zone (`2026-12-02T10:00:00Z`). */
const Instant = z.iso.datetime({ offset: true });

export const Schedule = z
  .object({
    /** When viewers should see the event start. */
    start: Instant,
    /** When the pipelines stop and the event ends; absent: runs until an operator ends it. */
    end: Instant.optional(),
    /** Pipelines start this long before `start`, so the first segments exist when viewers arrive. */
    leadSeconds: z.number().int().min(0).max(3600).default(30),
  })
  .strict()
  .refine((s) => s.end === undefined || Date.parse(s.end) > Date.parse(s.start), {
    message: 'end must be after start',
    path: ['end'],
  });
export type Schedule = z.infer<typeof Schedule>;

/** Audio language tags (BCP 47, short): the bridge's audio tracks, in order. */
export const Language = z
  .string()
  .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/, 'a BCP 47 language tag such as "en" or "pt-BR"');

/** What an operator creates: everything A and B are built from, so they are identical by construction. */
export const EventDefinition = z
  .object({
    id: EventId,
    title: z.string().min(1).max(200).optional(),
    /** The bridge's ladder preset (contract/ladder.ts). */
    ladder: z
      .string()
      .refine((name) => name in ladders, { message: `one of: ${Object.keys(ladders).join(', ')}` })
      .default('local'),
    audioLanguages: z.array(Language).min(1).max(8).default(['en']),
    captions: CaptionTracks.default([]),
    drm: DrmConfig.optional(),
    dvrWindowSeconds: EventConfig.shape.dvrWindowSeconds,
    /** Origin regions the event is published to (each pipeline cross-publishes to all of them). */
    regions: z.array(RegionId).min(1).max(4).default(['r1', 'r2']),
    /** Redundant pipelines, in preference order. */
    pipelines: z.array(PipelineId).min(1).max(4).default(['A', 'B']),
    /** Absent: the hub never starts pipelines by itself (start now with an operation). */
    schedule: Schedule.optional(),
    /** A test event: fed by the synthetic source instead of a venue feed. */
    test: z.boolean().default(false),
    /** Viewers move to this event when this one ends (DASH Period / HLS discontinuity). */
    next: EventId.optional(),
    playerTokens: z.enum(['off', 'required']).default('off'),
    /**
     * Chunked CMAF part duration in ms (docs/latency.md): 500 or 333 makes the bridges publish parts
     * and the origin serve LL-HLS (`?latency=low`) beside the standard manifests; 0, the default,
     * standard latency only (parts multiply the bridges' PUTs by 1 + D/P).
     */
    partDurationMs: z.union([z.literal(0), z.literal(500), z.literal(333)]).default(0),
    /**
     * Which of `regions` get the parts (docs/latency.md): `first` (default) or `all`, so that
     * low-latency players keep their parts when the first region fails (twice the part PUTs).
     */
    partRegions: z.enum(['first', 'all']).default('first'),
  })
  .strict()
  .refine((e) => new Set(e.pipelines).size === e.pipelines.length, {
    message: 'pipelines must not repeat',
    path: ['pipelines'],
  })
  .refine((e) => new Set(e.regions).size === e.regions.length, {
    message: 'regions must not repeat',
    path: ['regions'],
  })
  .refine((e) => e.next !== e.id, { message: 'the next event must be another event', path: ['next'] });
export type EventDefinition = z.infer<typeof EventDefinition>;
export type EventDefinitionInput = z.input<typeof EventDefinition>;

/**
 * What may change after creation (PATCH). Ladder, languages, regions, pipelines and DRM are fixed
 * once the event exists: changing them mid-event would make A and B, or two regions, disagree.
 */
export const EventDefinitionPatch = z
  .object({
    title: z.string().min(1).max(200),
    dvrWindowSeconds: DvrWindow,
    schedule: Schedule,
    next: EventId.nullable(),
    captions: CaptionTracks,
    playerTokens: z.enum(['off', 'required']),
  })
  .partial()
  .strict()
  .refine((p) => Object.keys(p).length > 0, { message: 'name at least one field to change' });
export type EventDefinitionPatch = z.infer<typeof EventDefinitionPatch>;

/**
 * Where an event is in its life. `scheduled`: waiting for start − lead. `starting`: pipelines asked
 * to start. `live`: at least one pipeline publishes. `ended`: ended by schedule or operator.
 */
export const EventPhase = z.enum(['created', 'scheduled', 'starting', 'live', 'ended']);
export type EventPhase = z.infer<typeof EventPhase>;

/** Live operations (POST /api/events/{event}/operations), each recorded in the audit timeline. */
export const Operation = z.discriminatedUnion('op', [
  /** Start every pipeline now (ignores the schedule's start). */
  z.object({ op: z.literal('start') }).strict(),
  /** Stop every pipeline now; the event does not end (start again to resume). */
  z.object({ op: z.literal('stop') }).strict(),
  z.object({ op: z.literal('start-pipeline'), pipeline: PipelineId }).strict(),
  z.object({ op: z.literal('stop-pipeline'), pipeline: PipelineId }).strict(),
  z.object({ op: z.literal('restart-pipeline'), pipeline: PipelineId }).strict(),
  /** Never serve this pipeline's candidates from now on (until unmasked). */
  z.object({ op: z.literal('mask-pipeline'), pipeline: PipelineId }).strict(),
  z.object({ op: z.literal('unmask-pipeline'), pipeline: PipelineId }).strict(),
  /** Put this pipeline first in the preference order. */
  z.object({ op: z.literal('prefer-pipeline'), pipeline: PipelineId }).strict(),
  z
    .object({
      op: z.literal('set-dvr-window'),
      dvrWindowSeconds: DvrWindow,
    })
    .strict(),
  /** Move viewers to `event` at the next segment boundary `inSeconds` from now (default 10 s). */
  z
    .object({ op: z.literal('move-to-next'), event: EventId, inSeconds: z.number().int().min(0).max(3600).default(10) })
    .strict(),
  /** End the event now: origins end it at the newest segment, pipelines stop. */
  z.object({ op: z.literal('end') }).strict(),
]);
export type Operation = z.infer<typeof Operation>;

/** One line of an event's audit timeline. */
export interface AuditEntry {
  id: number;
  at: string;
  /** `operator` (the API or Control Room), `schedule` (the hub's alarm), `alert`, or `hub` (what it saw: `live`). */
  who: string;
  what: string;
  detail: unknown;
}
