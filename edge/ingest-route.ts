import { AppError } from '../contract/errors.ts';
import {
  DEFECTS_HEADER,
  INGEST_CONTENT_TYPES,
  MAX_INIT_BYTES,
  MAX_SEGMENT_BYTES,
  MAX_VTT_BYTES,
  TRACK_META_HEADER,
  TrackMeta,
  VTT_CONTENT_TYPE,
} from '../contract/ingest.ts';
import { parseWebVtt } from '../packager/captions/webvtt-parse.ts';
import { readBoxes } from '../packager/bmff/box-reader.ts';
import { readInitInfo } from '../packager/init-info.ts';
import { templateMetadata } from '../packager/template-metadata.ts';
import { unwrap } from '../origin/result.ts';
import { requireTokenFor } from './credentials.ts';
import { encryptIngestSegment, protectIngestInit } from './drm-packaging.ts';
import { requireCreatedEvent } from './event-gate.ts';
import { ingestDrmFor } from './ingest-drm-memory.ts';
import type { RouteHandler } from './route-handler.ts';
import { type IngestTarget, parseIngestPath } from './ingest-path.ts';
import { originFor, regionOf, requireKnownRegion } from './origin-stub.ts';
import { readBodyLimited } from './read-body.ts';

/**
 * PUT /ingest/{event}/{pipeline}/{track}/init.mp4 | {K}.m4s [?region=r2] (docs/api.md). Checks run
 * cheapest first — auth, path, region, media type, size, structure — and every one happens before
 * the origin is asked to store anything, so a rejected request changes nothing. `?region=` names the
 * region whose origin stores it (default: this Worker's): packagers cross-publish every segment to
 * every region with one PUT each, so one region's trouble never holds up the other.
 */
export const putIngest: RouteHandler = async (c) => {
  const target = parseIngestPath(new URL(c.req.url).pathname.replace(/^\/ingest\//, ''));
  requireTokenFor(c, target.event, target.pipeline);
  const regionParam = c.req.query('region');
  const region = regionParam === undefined ? regionOf(c.env) : requireKnownRegion(c.env, regionParam);
  // Only events the hub created take media (edge/event-gate.ts): no PUT can create an origin object.
  await requireCreatedEvent(c.env, target.event);
  const origin = originFor(c.env, target.event, region);

  if (target.kind === 'captions') {
    // Cues of segment K (docs/captions.md): parsed and checked here and in the origin before any is stored.
    requireMediaType(c.req.header('content-type'), [VTT_CONTENT_TYPE]);
    const text = decodeUtf8(await readBodyLimited(c.req.raw, MAX_VTT_BYTES, `captions of segment ${target.k}`));
    const cues = parseWebVtt(text, Date.now());
    const { status } = unwrap(await origin.putCues({ event: target.event, track: target.track, cues, k: target.k }));
    return c.body(null, status);
  }

  requireMediaType(c.req.header('content-type'), INGEST_CONTENT_TYPES);

  if (target.kind === 'init') {
    const meta = parseTrackMeta(c.req.header(TRACK_META_HEADER));
    const bytes = await readBodyLimited(c.req.raw, MAX_INIT_BYTES, 'init segment');
    let info = readInitInfo(bytes);
    let stored = bytes;
    // DRM events store the protected header (docs/drm.md); the event must have its drm set before its first init.
    const { drm } = await origin.ingestDrm(target.track, target.pipeline);
    if (drm) ({ bytes: stored, info } = await protectIngestInit(c.env, target.event, drm, bytes, info));
    const descriptor = templateMetadata(target.track, info, meta);
    const { status } = unwrap(
      await origin.putInit({
        event: target.event,
        pipeline: target.pipeline,
        track: target.track,
        bytes: stored,
        info,
        descriptor,
      }),
    );
    return c.body(null, status);
  }

  if (target.kind === 'part') return putPart(c, target, origin, region);

  const publisherDefects = parseDefects(c.req.header(DEFECTS_HEADER));
  const bytes = await readBodyLimited(c.req.raw, MAX_SEGMENT_BYTES, `segment ${target.k}`);
  requireSegmentShape(bytes);
  const stored = await encryptedIfDrm(c, target, origin, region, bytes);
  const result = unwrap(
    await origin.putSegment({
      event: target.event,
      pipeline: target.pipeline,
      track: target.track,
      k: target.k,
      region,
      bytes: stored,
      publisherDefects,
    }),
  );
  return c.body(null, result.status, { [DEFECTS_HEADER]: result.defects.join(',') || 'none' });
};

/**
 * Part n of segment K (chunked CMAF, docs/latency.md): the same checks as a segment. A DRM event's
 * part is encrypted like a segment (docs/drm.md): K's key period, and for cenc an IV from the clear
 * part's own bytes, so A's and B's copies of a part are the same bytes and a retry is a 204.
 */
async function putPart(
  c: Parameters<RouteHandler>[0],
  target: Extract<IngestTarget, { kind: 'part' }>,
  origin: ReturnType<typeof originFor>,
  region: string,
): Promise<Response> {
  const bytes = await readBodyLimited(c.req.raw, MAX_SEGMENT_BYTES, `part ${target.k}.${target.n}`);
  requireSegmentShape(bytes);
  const stored = await encryptedIfDrm(c, target, origin, region, bytes);
  const { status } = unwrap(
    await origin.putPart({
      event: target.event,
      pipeline: target.pipeline,
      track: target.track,
      k: target.k,
      n: target.n,
      bytes: stored,
    }),
  );
  return c.body(null, status);
}

/**
 * The bytes the origin stores for a segment or part of K: encrypted when the event has DRM. A DRM
 * event never stores clear media: without this pipeline's (protected) init there is nothing to
 * encrypt for, and the origin must not be asked (the init could land in between).
 */
async function encryptedIfDrm(
  c: Parameters<RouteHandler>[0],
  target: Extract<IngestTarget, { kind: 'segment' | 'part' }>,
  origin: ReturnType<typeof originFor>,
  region: string,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  // Settled per (event, region, track, pipeline) after its init: no origin round trip per segment.
  const { drm, init } = await ingestDrmFor(`${target.event}:${region}/${target.track}/${target.pipeline}`, () =>
    origin.ingestDrm(target.track, target.pipeline),
  );
  if (!drm) return bytes;
  if (!init)
    throw new AppError(
      'INIT_MISSING',
      `no init.mp4 stored for event ${target.event}, pipeline ${target.pipeline}, track ${target.track}: PUT it before segments`,
    );
  return encryptIngestSegment(c.env, target.event, drm, init, target.k, bytes);
}

export const ingestMethodNotAllowed: RouteHandler = (c) => {
  throw new AppError('METHOD_NOT_ALLOWED', `${c.req.method} is not supported on ingest paths; use PUT`, {
    allow: 'PUT',
  });
};

function requireMediaType(contentType: string | undefined, accepted: readonly string[]): void {
  const type = contentType?.split(';')[0].trim().toLowerCase();
  if (!type || !accepted.includes(type)) {
    throw new AppError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Type ${type ? `"${type}"` : '(missing)'} is not accepted; use ${accepted.join(', ')}`,
    );
  }
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AppError('BAD_BODY', 'the WebVTT body is not valid UTF-8');
  }
}

function parseTrackMeta(header: string | undefined): TrackMeta {
  if (!header)
    throw new AppError(
      'BAD_HEADER',
      `${TRACK_META_HEADER} is required on init PUTs: JSON {bandwidth, frameRate?, language?, label?}`,
    );
  let json: unknown;
  try {
    json = JSON.parse(header);
  } catch {
    throw new AppError('BAD_HEADER', `${TRACK_META_HEADER} is not valid JSON`);
  }
  const parsed = TrackMeta.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new AppError('BAD_HEADER', `${TRACK_META_HEADER} is invalid: ${issues}`);
  }
  return parsed.data;
}

/** Publisher-reported defects: comma-separated tokens (docs/api.md lists the vocabulary). */
export function parseDefects(header: string | undefined): string[] {
  if (!header?.trim() || header.trim() === 'none') return [];
  const tokens = header
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
  const bad = tokens.find((t) => !/^[a-z0-9][a-z0-9-]{0,31}$/.test(t));
  if (bad !== undefined || tokens.length > 16) {
    throw new AppError(
      'BAD_HEADER',
      `${DEFECTS_HEADER} must be up to 16 comma-separated tokens of a-z, 0-9 and "-"${bad ? `; "${bad}" is not one` : ''}`,
    );
  }
  return [...new Set(tokens)];
}

/** A media segment is moof/mdat pairs; an init body here is a client bug worth naming. */
function requireSegmentShape(bytes: Uint8Array): void {
  const types = readBoxes(bytes).map((b) => b.type);
  if (types.includes('moov'))
    throw new AppError('MEDIA_NOT_SEGMENT', 'this body is an init segment (it has moov); PUT it to …/init.mp4');
  if (!types.includes('moof') || !types.includes('mdat')) {
    throw new AppError(
      'MEDIA_NOT_SEGMENT',
      `a media segment needs moof and mdat; this body has ${types.join(', ') || 'no boxes'}`,
    );
  }
}
