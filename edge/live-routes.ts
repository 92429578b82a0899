import type { MiddlewareHandler } from 'hono';
import { AppError } from '../contract/errors.ts';
import { EVENT_STATE_HEADER } from '../contract/event-state.ts';
import { EventId, PipelineId, SegmentNumber, TrackId } from '../contract/ids.ts';
import type { ManifestInput, TrackDescriptor } from '../contract/track.ts';
import { writeMpd } from '../packager/manifest/dash.ts';
import { writeMediaPlaylist, writeMultivariantPlaylist } from '../packager/manifest/hls.ts';
import { unwrap } from '../origin/result.ts';
import { candidateHeader } from '../origin/select-candidate.ts';
import { check } from './credentials.ts';
import { withLicenseUrl } from './drm-routes.ts';
import type { Ctx, RouteHandler } from './route-handler.ts';
import { etagFor, matchesIfNoneMatch, sha256Hex } from './etag.ts';
import { rememberEventState } from './event-state-memory.ts';
import { pathPart } from './ingest-path.ts';
import { originFor, regionOf, requireKnownRegion } from './origin-stub.ts';

/**
 * Player-facing routes (docs/api.md). Thin for now: each request goes straight to the event's
 * origin object in this Worker's region. Request coalescing and region failover belong in
 * `originFor`'s callers here, between the route and the RPC; their cache key must include the
 * event version (x-event-state `v`), as the ETags here do.
 */

/**
 * Keep the newest x-event-state per event, whatever the answer (errors carry it too) — from the
 * home region only: an operator fetch with `?region=` reads another region's origin.
 */
export const rememberLiveEventState: MiddlewareHandler = async (c, next) => {
  await next();
  const url = new URL(c.req.url);
  const event = url.pathname.split('/')[2];
  if (event && !url.searchParams.has('region')) rememberEventState(event, c.res.headers.get(EVENT_STATE_HEADER));
};

/** Segments and inits never change once published: cache them for a day. */
const IMMUTABLE = 'public, max-age=86400, immutable';
/**
 * A defective candidate is served only when nothing better exists yet; a clean copy may still
 * arrive, so it is cached about as briefly as a manifest.
 */
const DEFECTIVE_TTL = 'public, max-age=1';
/** Live manifests change every D; about half of a 2 s segment, in Cloudflare's whole seconds. */
const MANIFEST_TTL = 'public, max-age=1';
/** Operator fetches bypass selection; no shared cache may keep them. */
const OPERATOR_TTL = 'private, no-store';

const mediaType = (kind: TrackDescriptor['kind']) =>
  kind === 'audio' ? 'audio/mp4' : kind === 'video' ? 'video/mp4' : 'application/mp4';

/** 200 with an ETag, or 304 when the client already has exactly this (same version, same bytes). */
function respond(c: Ctx, body: BodyInit, etag: string, headers: Record<string, string>): Response {
  const all: Record<string, string> = { ...headers, etag };
  if (matchesIfNoneMatch(c.req.header('if-none-match'), etag)) {
    delete all['content-type'];
    return new Response(null, { status: 304, headers: all });
  }
  return new Response(body, { headers: all });
}

/**
 * `?pipeline=B[&region=r1]` asks for exactly that stored candidate, bypassing selection and
 * masks: what the Control Room and tests use to compare pipelines. Operators only.
 */
async function operatorPick(c: Ctx): Promise<{ pipeline: string; region?: string } | undefined> {
  const pipeline = c.req.query('pipeline');
  const region = c.req.query('region');
  if (pipeline === undefined && region === undefined) return undefined;
  await check(c, 'operator:read');
  if (pipeline === undefined)
    throw new AppError('BAD_QUERY', '?region= needs ?pipeline= (an operator candidate fetch names the pipeline)');
  const p = PipelineId.safeParse(pipeline);
  if (!p.success) throw new AppError('BAD_QUERY', `pipeline "${pipeline}" is invalid: ${p.error.issues[0].message}`);
  if (region === undefined) return { pipeline: p.data };
  return { pipeline: p.data, region: requireKnownRegion(c.env, region) };
}

async function manifest(c: Ctx, write: (input: ManifestInput) => string, contentType: string): Promise<Response> {
  const event = pathPart(EventId, c.req.param('event'), 'event');
  const { input, version, eventState } = unwrap(await originFor(c.env, event).manifestInput());
  if (input.next) {
    // The next event's own state, once it exists (only one hop: its own `next` is not followed).
    const next = await originFor(c.env, input.next.eventId).manifestInput();
    if (next.ok) input.next.input = { ...next.value.input, next: undefined };
  }
  const body = write(input);
  return respond(c, body, etagFor(version, await sha256Hex(body)), {
    'content-type': contentType,
    'cache-control': MANIFEST_TTL,
    [EVENT_STATE_HEADER]: eventState,
  });
}

export const getMpd: RouteHandler = (c) =>
  manifest(
    c,
    (input) => writeMpd(withLicenseUrl(input, c.req.url), { utcTimingUrl: new URL('/time', c.req.url).href }),
    'application/dash+xml',
  );

export const getMultivariantPlaylist: RouteHandler = (c) =>
  manifest(c, (input) => writeMultivariantPlaylist(input), 'application/vnd.apple.mpegurl');

export const getMediaPlaylist: RouteHandler = (c) => {
  const track = pathPart(TrackId, c.req.param('track'), 'track');
  return manifest(
    c,
    (input) => {
      if (!input.tracks.some((t) => t.id === track))
        throw new AppError('TRACK_NOT_FOUND', `no track ${track} in event ${input.eventId}`, {
          'cache-control': 'public, max-age=1',
        });
      return writeMediaPlaylist(input, track);
    },
    'application/vnd.apple.mpegurl',
  );
};

export const getInit: RouteHandler = async (c) => {
  const event = pathPart(EventId, c.req.param('event'), 'event');
  const track = pathPart(TrackId, c.req.param('track'), 'track');
  const pick = await operatorPick(c);
  // A region asked for is the one whose origin answers (every region stores its own copy).
  const init = unwrap(await originFor(c.env, event, pick?.region).getInit(track, pick?.pipeline));
  const headers: Record<string, string> = {
    'content-type': mediaType(init.kind),
    'cache-control': pick ? OPERATOR_TTL : IMMUTABLE,
    [EVENT_STATE_HEADER]: init.eventState,
  };
  if (pick)
    headers['x-candidate'] = candidateHeader({
      pipeline: init.pipeline,
      region: pick.region ?? regionOf(c.env),
      defects: [],
    });
  return respond(c, init.bytes, etagFor(init.version, init.sha256), headers);
};

/**
 * Caption segment K as WebVTT (HLS SUBTITLES; docs/captions.md). Written by the origin from the
 * cues overlapping K; cached briefly while late cues may still change it, then for good.
 */
export const getTextSegment: RouteHandler = async (c) => {
  const event = pathPart(EventId, c.req.param('event'), 'event');
  const track = pathPart(TrackId, c.req.param('track'), 'track');
  const k = pathPart(SegmentNumber, (c.req.param('file') ?? '').replace(/\.vtt$/, ''), 'segment number');
  const segment = unwrap(await originFor(c.env, event).getTextSegment(track, k, 'vtt', regionOf(c.env)));
  const headers = {
    'content-type': 'text/vtt; charset=utf-8',
    'cache-control': segment.settled ? IMMUTABLE : DEFECTIVE_TTL,
    [EVENT_STATE_HEADER]: segment.eventState,
  };
  return respond(c, segment.body ?? '', etagFor(segment.version, segment.sha256), headers);
};

export const getSegment: RouteHandler = async (c) => {
  const event = pathPart(EventId, c.req.param('event'), 'event');
  const track = pathPart(TrackId, c.req.param('track'), 'track');
  const k = pathPart(SegmentNumber, (c.req.param('file') ?? '').replace(/\.m4s$/, ''), 'segment number');
  const pick = await operatorPick(c);
  const region = pick?.region ?? regionOf(c.env);
  const origin = originFor(c.env, event, region);
  const segment = unwrap(
    pick ? await origin.getCandidate(track, k, pick.pipeline) : await origin.getSegment(track, k, region),
  );
  // Caption (stpp) segments are written from cues, which may still arrive for a K just due.
  const unsettled = segment.settled === false;
  const cacheControl = pick
    ? OPERATOR_TTL
    : segment.candidate.defects.length > 0 || unsettled
      ? DEFECTIVE_TTL
      : IMMUTABLE;
  const headers: Record<string, string> = {
    'content-type': mediaType(segment.kind),
    'cache-control': cacheControl,
    'x-candidate': candidateHeader(segment.candidate),
    [EVENT_STATE_HEADER]: segment.eventState,
  };
  // Operators (and the chaos test) compare arrival times of the pipelines' copies.
  if (pick) headers['x-received-at'] = new Date(segment.receivedAt).toISOString();
  return respond(c, segment.bytes, etagFor(segment.version, segment.sha256), headers);
};
