import { z } from 'zod';
import { PTS_CLOCK_HZ, wrapPts } from './epoch.ts';
import { encodeSpliceInsert, fromBase64, parseSpliceSection, toBase64 } from './scte35-section.ts';
import type { ManifestInput } from './track.ts';

/**
 * Ad breaks (docs/api.md, "Splices"): a splice is an SCTE-35 break that goes OUT of the program at
 * `outAt` and comes back IN at `outAt + durationMs`. It comes from the contribution feed (the
 * bridge reads SCTE-35 sections on their own PID) or from an operator (POST
 * /api/events/{event}/splices). The origin stores splices by id: both pipelines post the same
 * splice from the same feed, and it is kept once, so players see one marker whichever copy they get.
 */

/** splice_event_id: a 32-bit number chosen by whoever created the splice. */
export const SpliceId = z.number().int().min(0).max(0xffff_ffff);
/** Breaks last at most this long (a pod of ads; longer is a mistake, not a break). */
export const MAX_SPLICE_MS = 3_600_000;
/** A splice may be planned at most this far ahead (a scheduled break in a show). */
export const MAX_SPLICE_LEAD_MS = 24 * 3_600_000;
/** A splice older than this is refused: it cannot reach any manifest any more. */
export const MAX_SPLICE_LAG_MS = 3_600_000;
/**
 * Manifests announce a break this long before its OUT point (ad decisioning downstream needs the
 * notice, as SCTE-35's own pre-roll of a few seconds gives it); planned breaks further ahead are
 * stored and appear when they come this close.
 */
export const SPLICE_PREROLL_MS = 8_000;

export const SpliceSource = z.enum(['feed', 'operator']);

/** One ad break as stored by the origin and written into manifests. */
export const Splice = z
  .object({
    id: SpliceId,
    /** UTC (ms since the epoch) of the OUT point, on the media timeline (media time is UTC). */
    outAt: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    /** Planned duration: the break comes back IN at outAt + durationMs. */
    durationMs: z.number().int().min(1).max(MAX_SPLICE_MS),
    source: SpliceSource,
    /** Base64 of the binary splice_info_section (what SCTE35-OUT and scte35:Binary carry). */
    scte35: z
      .string()
      .max(1024)
      .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'scte35: base64 of a splice_info_section'),
  })
  .strict();
export type Splice = z.infer<typeof Splice>;

/**
 * POST /api/events/{event}/splices. `at` omitted: the break starts now. `id` omitted: the
 * section's splice_event_id, else one derived from the time. `scte35` omitted (an operator's
 * break): a splice_insert OUT is written for it; given (the feed's own section, base64, from the
 * bridge or an upstream system), it is checked and passed on unchanged.
 */
export const SplicePost = z
  .object({
    at: z.iso.datetime({ offset: true }).optional(),
    durationSeconds: z
      .number()
      .positive()
      .max(MAX_SPLICE_MS / 1000),
    id: SpliceId.optional(),
    scte35: Splice.shape.scte35.optional(),
  })
  .strict();
export type SplicePost = z.infer<typeof SplicePost>;

/** What the API answers: the splice as stored (and whether this request added it). */
export const SpliceAnswer = z.object({ splice: Splice, added: z.boolean() });

/** The splice an operator's or the bridge's request describes, at `nowMs` when no `at` is given. */
export function spliceFromPost(post: SplicePost, source: Splice['source'], nowMs: number): Splice {
  const outAt = post.at === undefined ? nowMs : Date.parse(post.at);
  const durationMs = Math.round(post.durationSeconds * 1000);
  // The feed's own splice_event_id when it sent one; else the same instant gives the same id, so a
  // retried request with the same `at` (or `id`) names the splice it already made. A retry without
  // either, a second or more later, is another instant: another break.
  const id = post.id ?? sectionSpliceId(post.scte35) ?? Math.floor(outAt / 1000) % 0x1_0000_0000;
  const scte35 =
    post.scte35 ??
    toBase64(
      encodeSpliceInsert({
        spliceEventId: id,
        outOfNetwork: true,
        ptsTime: utcMsToPts(outAt),
        breakDuration: Math.round((durationMs * PTS_CLOCK_HZ) / 1000),
        autoReturn: true,
      }),
    );
  return { id, outAt, durationMs, source, scte35 };
}

function sectionSpliceId(scte35: string | undefined): number | undefined {
  if (scte35 === undefined) return undefined;
  try {
    return parseSpliceSection(fromBase64(scte35)).spliceEventId;
  } catch {
    return undefined; // sectionProblem says what is wrong with it
  }
}

/** Why a splice's section cannot be sent to players (undefined when it parses and names the same id). */
export function sectionProblem(splice: Splice): string | undefined {
  try {
    const s = parseSpliceSection(fromBase64(splice.scte35));
    if (s.command === 'splice_insert' && s.spliceEventId !== splice.id)
      return `scte35: the section's splice_event_id ${s.spliceEventId} is not id ${splice.id}`;
    return undefined;
  } catch (err) {
    return `scte35: ${(err as Error).message}`;
  }
}

/** The IN of a break: a splice_insert with out_of_network_indicator 0 at outAt + durationMs. */
export function spliceInSection(splice: Splice): Uint8Array {
  return encodeSpliceInsert({
    spliceEventId: splice.id,
    outOfNetwork: false,
    ptsTime: utcMsToPts(splice.outAt + splice.durationMs),
  });
}

/**
 * The breaks a manifest announces: the one rule for the origin (what it passes in ManifestInput)
 * and for both writers (HLS and DASH). A break is announced when it overlaps the half-open window
 * from the start of the first listed segment to SPLICE_PREROLL_MS past the end of the newest,
 * cut at atK·D when a next event is scheduled (this event's media ends there: its breaks after it
 * never play). So a break running at the window's start (OUT before it, IN inside) is announced,
 * and a player joining mid-break learns it is in one (hls.js takes a START-DATE before the first
 * segment; dash.js starts an Event whose presentationTime has passed while the playhead is within
 * its duration); one whose IN is exactly the start is over, and one whose OUT is exactly the end
 * waits for a later manifest.
 */
export function manifestSplices(
  splices: readonly Splice[],
  input: Pick<ManifestInput, 'config' | 'firstSegment' | 'lastSegmentByTrack' | 'next'>,
): Splice[] {
  const D = input.config.segmentDurationMs;
  const newest = Math.max(input.firstSegment, ...Object.values(input.lastSegmentByTrack));
  const fromMs = input.firstSegment * D;
  const toMs = Math.min((newest + 1) * D + SPLICE_PREROLL_MS, input.next ? input.next.atK * D : Infinity);
  return splices.filter((s) => s.outAt < toMs && s.outAt + s.durationMs > fromMs);
}

/**
 * The breaks of a back-to-back next event that its part of this event's manifests announces
 * (its DASH Period, its HLS discontinuity): the same rule over the next event's own splices and
 * window, from where it takes over (atK, or its first segment when it started later).
 */
export function nextEventSplices(input: Pick<ManifestInput, 'next'>): Splice[] {
  const next = input.next?.input;
  if (!next || input.next === undefined) return [];
  const firstSegment = Math.max(input.next.atK, next.firstSegment);
  return manifestSplices(next.splices ?? [], { ...next, firstSegment });
}

/** Media time (UTC) as a 90 kHz PTS: the contribution feed's own clock (contract/epoch.ts). */
export function utcMsToPts(utcMs: number): number {
  return wrapPts(Math.round((utcMs * PTS_CLOCK_HZ) / 1000));
}

/** Snap `outAt` to the next segment boundary K·D (events with splicesOnBoundary). */
export function snapToBoundary(outAt: number, segmentDurationMs: number): number {
  return Math.ceil(outAt / segmentDurationMs) * segmentDurationMs;
}

/**
 * The splice on segment boundaries (EventConfig.splicesOnBoundary): OUT at the next K·D, IN at
 * the boundary at or after its planned end. When that moves it, its section is written again
 * (a splice_insert OUT with the same id at the new time and duration), so the marker's binary
 * says what its attributes say; a splice already on boundaries is returned unchanged.
 */
export function spliceOnBoundary(splice: Splice, segmentDurationMs: number): Splice {
  const outAt = snapToBoundary(splice.outAt, segmentDurationMs);
  const durationMs = snapToBoundary(splice.outAt + splice.durationMs, segmentDurationMs) - outAt;
  if (outAt === splice.outAt && durationMs === splice.durationMs) return splice;
  return spliceFromPost({ durationSeconds: durationMs / 1000, id: splice.id }, splice.source, outAt);
}
