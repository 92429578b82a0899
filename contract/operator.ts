import { z } from 'zod';
import { EventId, PipelineId } from './ids.ts';
import { TokenScope } from './scoped-token.ts';

/**
 * Request bodies of the operator controls (docs/operations.md, "Operator controls"). Strict: an
 * unknown field is an error, not silently ignored, because a misspelt control must not look
 * like it worked.
 */
/** A segment number in a JSON body: a number, not a numeric string. */
const K = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** POST /api/events/{event}/masks: never serve `pipeline`'s candidates for fromK ≤ K ≤ toK. */
export const MaskRequest = z
  .object({
    pipeline: PipelineId,
    fromK: K,
    /** Inclusive; omitted: every K from fromK on. */
    toK: K.optional(),
  })
  .strict()
  .refine((m) => m.toK === undefined || m.toK >= m.fromK, { message: 'toK must be >= fromK', path: ['toK'] });
export type MaskRequest = z.infer<typeof MaskRequest>;

export interface Mask {
  id: number;
  pipeline: string;
  fromK: number;
  toK: number | null;
  createdAt: number;
}

/** POST /api/events/{event}/end: the last segment of the event; default: the newest stored. */
export const EndRequest = z.object({ lastK: K.optional() }).strict();
export type EndRequest = z.infer<typeof EndRequest>;

/**
 * PUT /api/events/{event}/next: from segment `atK` on, this event's manifests move viewers to
 * `event` (DASH: a new Period; HLS: a discontinuity). Both events share the epoch clock, so `atK`
 * is the same instant for both.
 */
export const NextRequest = z.object({ event: EventId, atK: K }).strict();
export type NextRequest = z.infer<typeof NextRequest>;

/** POST /api/events/{event}/tokens: mint a scoped contribution token (contract/scoped-token.ts). */
export const TokenRequest = z
  .object({
    scope: TokenScope,
    /** Ingest only: restrict the token to one pipeline. */
    pipeline: PipelineId.optional(),
  })
  .strict();
