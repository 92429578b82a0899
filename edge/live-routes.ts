import { Hono, type Context } from 'hono';
import { AppError } from '../contract/errors.ts';
import { EventId, TrackId } from '../contract/ids.ts';
import { SegmentNumber } from '../contract/ids.ts';
import type { ManifestInput, TrackDescriptor } from '../contract/track.ts';
import { writeMpd } from '../packager/manifest/dash.ts';
import { writeMediaPlaylist, writeMultivariantPlaylist } from '../packager/manifest/hls.ts';
import { unwrap } from '../origin/result.ts';
import { candidateHeader } from '../origin/select-candidate.ts';
import { cors } from './cors.ts';
import type { Env } from './env.ts';
import { pathPart } from './ingest-path.ts';
import { originFor, regionOf } from './origin-stub.ts';

/**
 * Player-facing routes (docs/api.md). Thin for now: each request goes straight to the event's
 * origin object in this Worker's region. Request coalescing and region failover belong in
 * `originFor`'s callers here, between the route and the RPC.
 */
export const liveRoutes = new Hono<{ Bindings: Env }>();
liveRoutes.use('*', cors);

/** Segments and inits never change once published: cache them for a day. */
const IMMUTABLE = 'public, max-age=86400, immutable';
/** Live manifests change every D; about half of a 2 s segment, in Cloudflare's whole seconds. */
const MANIFEST_TTL = 'public, max-age=1';

const mediaType = (kind: TrackDescriptor['kind']) => (kind === 'audio' ? 'audio/mp4' : kind === 'video' ? 'video/mp4' : 'application/mp4');

type Ctx = Context<{ Bindings: Env }>;

async function manifestInput(c: Ctx): Promise<ManifestInput> {
  const event = pathPart(EventId, c.req.param('event'), 'event');
  return unwrap(await originFor(c.env, event).manifestInput());
}

function manifest(body: string, contentType: string): Response {
  return new Response(body, { headers: { 'content-type': contentType, 'cache-control': MANIFEST_TTL } });
}

liveRoutes.get('/:event/index.mpd', async (c) => {
  const input = await manifestInput(c);
  return manifest(writeMpd(input, { utcTimingUrl: new URL('/time', c.req.url).href }), 'application/dash+xml');
});

liveRoutes.get('/:event/index.m3u8', async (c) => manifest(writeMultivariantPlaylist(await manifestInput(c)), 'application/vnd.apple.mpegurl'));

liveRoutes.get('/:event/:track/index.m3u8', async (c) => {
  const input = await manifestInput(c);
  const track = pathPart(TrackId, c.req.param('track'), 'track');
  if (!input.tracks.some((t) => t.id === track)) throw new AppError('TRACK_NOT_FOUND', `no track ${track} in event ${input.eventId}`, { 'cache-control': 'public, max-age=1' });
  return manifest(writeMediaPlaylist(input, track), 'application/vnd.apple.mpegurl');
});

liveRoutes.get('/:event/:track/init.mp4', async (c) => {
  const event = pathPart(EventId, c.req.param('event'), 'event');
  const track = pathPart(TrackId, c.req.param('track'), 'track');
  const init = unwrap(await originFor(c.env, event).getInit(track));
  return new Response(init.bytes, { headers: { 'content-type': mediaType(init.kind), 'cache-control': IMMUTABLE } });
});

liveRoutes.get('/:event/:track/:file{[0-9]+\\.m4s}', async (c) => {
  const event = pathPart(EventId, c.req.param('event'), 'event');
  const track = pathPart(TrackId, c.req.param('track'), 'track');
  const k = pathPart(SegmentNumber, c.req.param('file').replace(/\.m4s$/, ''), 'segment number');
  const segment = unwrap(await originFor(c.env, event).getSegment(track, k, regionOf(c.env)));
  return new Response(segment.bytes, {
    headers: { 'content-type': mediaType(segment.kind), 'cache-control': IMMUTABLE, 'x-candidate': candidateHeader(segment.candidate) },
  });
});
