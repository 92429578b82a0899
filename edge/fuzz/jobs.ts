import { EventId } from '../../contract/ids.ts';
import { writeVttSegment } from '../../packager/captions/webvtt-segment.ts';
import { DEV_OPERATOR_TOKEN, devToken, ingestTokenFor } from '../../test/ingest-client.ts';
import { mutateJson } from './mutate-json.ts';
import { mutateMedia } from './mutate-media.ts';
import { mutateWebVtt } from './mutate-text.ts';
import type { Rng } from './rng.ts';

/** The real inputs mutations start from, and the events they are aimed at (set up by the run). */
export interface Corpus {
  /** Segment duration of every event. */
  D: number;
  /** liveK when the run was set up. */
  liveK: number;
  /** Events with media stored before the run (clear first, then DRM ones); mutations may never change what they hold. */
  mediaEvents: string[];
  /** The event whose controls are fuzzed (it has media too, but what it stores may change). */
  controlEvent: string;
  /** Per track: its clear init and some real segments of it. */
  tracks: Record<'v1' | 'a1', { init: Uint8Array; segments: Uint8Array[]; contentType: string }>;
  /** K pipeline A stored before the run: fuzzed A segments go to other K so a valid one never replaces them. */
  storedK: number[];
  /** Every real file, for splicing boxes from one into another. */
  donors: Uint8Array[];
}

/** One request of the run, and what was done to make it (printed when its answer is wrong). */
export interface Job {
  what: string;
  ops: string[];
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array;
}

/** Draw mutation i's request: media segments most, then control bodies, inits, WebVTT and player reads. */
export async function drawJob(rng: Rng, c: Corpus): Promise<Job> {
  const kind = rng.weighted([
    [45, segmentJob],
    [15, initJob],
    [15, vttJob],
    [20, controlJob],
    [5, readJob],
  ] as const);
  return kind(rng, c);
}

/** A small share of requests get a broken path, media type or region on top of their body. */
function damagePath(rng: Rng, path: string, ops: string[]): string {
  if (!rng.chance(0.04)) return path;
  const parts = path.split('/');
  const i = rng.int(parts.length);
  parts[i] = rng.pick(['', '-1', '99999999999999999', 'a b', '%zz', 'X'.repeat(80), '..', '1.5.m4s', 'A']);
  ops.push(`path part ${i} := "${parts[i]}"`);
  return parts.join('/');
}

function contentType(rng: Rng, normal: string, ops: string[]): string {
  if (!rng.chance(0.04)) return normal;
  const type = rng.pick(['text/plain', '', 'video/mp4; codecs="x"', 'application/json', 'VIDEO/MP4']);
  ops.push(`content-type "${type}"`);
  return type;
}

async function ingest(rng: Rng, path: string, type: string, body: Uint8Array, ops: string[], extra = {}) {
  const region = rng.chance(0.05) ? '?region=r2' : '';
  const finalPath = damagePath(rng, path, ops) + region;
  return {
    method: 'PUT',
    path: `/ingest/${finalPath}`,
    headers: {
      authorization: `Bearer ${await ingestTokenFor(finalPath)}`,
      'content-type': contentType(rng, type, ops),
      ...extra,
    },
    body,
  };
}

async function segmentJob(rng: Rng, c: Corpus): Promise<Job> {
  const event = rng.pick(c.mediaEvents);
  const trackId = rng.pick(['v1', 'a1'] as const);
  const track = c.tracks[trackId];
  const pipeline = rng.chance(0.7) ? 'A' : 'B';
  const fresh = [c.liveK - 2, c.liveK - 1, c.liveK, c.liveK + 1];
  const k = rng.pick(pipeline === 'A' ? fresh : [...c.storedK, ...fresh]);
  const base = rng.pick(track.segments);
  const { bytes, ops } = rng.chance(0.08) ? { bytes: base, ops: ['(unmutated)'] } : mutateMedia(rng, base, c.donors);
  const what = `segment ${event}/${pipeline}/${trackId}/${k}.m4s`;
  const defects = rng.chance(0.05)
    ? { 'x-segment-defects': rng.pick(['short', 'a,b,c', 'BAD TOKEN', 'x'.repeat(40)]) }
    : {};
  return {
    what,
    ops,
    ...(await ingest(rng, `${event}/${pipeline}/${trackId}/${k}.m4s`, track.contentType, bytes, ops, defects)),
  };
}

async function initJob(rng: Rng, c: Corpus): Promise<Job> {
  const event = rng.pick(c.mediaEvents);
  const trackId = rng.pick(['v1', 'a1'] as const);
  const track = c.tracks[trackId];
  const pipeline = rng.pick(['A', 'B', 'C']);
  const { bytes, ops } = rng.chance(0.05)
    ? { bytes: track.init, ops: ['(unmutated)'] }
    : mutateMedia(rng, track.init, c.donors);
  // A header value is printable ASCII (fetch refuses anything else before it is sent).
  const meta = rng.chance(0.05)
    ? new TextDecoder()
        .decode(mutateJson(rng, { bandwidth: 400_000, frameRate: '30', language: 'en' }).bytes)
        .replace(/[^\x20-\x7e]/g, '?')
    : JSON.stringify({ bandwidth: 400_000, frameRate: '30' });
  const what = `init ${event}/${pipeline}/${trackId}/init.mp4`;
  return {
    what,
    ops,
    ...(await ingest(rng, `${event}/${pipeline}/${trackId}/init.mp4`, track.contentType, bytes, ops, {
      'x-track-meta': meta,
    })),
  };
}

async function vttJob(rng: Rng, c: Corpus): Promise<Job> {
  const event = c.mediaEvents[0]; // the one that declares English captions
  const k = Math.floor(Date.now() / c.D) + rng.range(0, 2);
  const start = k * c.D + rng.int(c.D - 500);
  const cues = [{ startMs: start, endMs: start + 400, text: rng.pick(['Hello', 'Fish & <chips>', 'two\nlines']) }];
  const vtt = writeVttSegment(cues, k, c.D);
  const { bytes, ops } = rng.chance(0.08)
    ? { bytes: new TextEncoder().encode(vtt), ops: ['(unmutated)'] }
    : mutateWebVtt(rng, vtt);
  return {
    what: `captions ${event}/A/text-en/${k}.vtt`,
    ops,
    ...(await ingest(rng, `${event}/A/text-en/${k}.vtt`, 'text/vtt', bytes, ops)),
  };
}

/** Operator (and captions) control bodies: a valid one of each route, mutated. */
function controls(c: Corpus): { method: string; path: string; body?: unknown; token?: 'captions' }[] {
  const k = c.liveK;
  return [
    {
      method: 'PATCH',
      path: 'config',
      body: {
        dvrWindowSeconds: 7200,
        presentationDelaySegments: 3,
        pipelines: ['A', 'B'],
        maxSegmentRequestsPerSecond: 1000,
        dvrShareOfRequests: 0.7,
        liveEdgeSegments: 6,
        defectiveGraceMs: 3000,
        captions: [{ language: 'en', label: 'English', default: true }],
      },
    },
    { method: 'POST', path: 'masks', body: { pipeline: 'B', fromK: k - 10, toK: k + 10 } },
    { method: 'DELETE', path: 'masks/1' },
    { method: 'POST', path: 'version', body: {} },
    { method: 'POST', path: 'end', body: { lastK: k + 100 } },
    { method: 'PUT', path: 'next', body: { event: `${c.controlEvent}-next`, atK: k + 50 } },
    { method: 'DELETE', path: 'next' },
    {
      method: 'PUT',
      path: 'drm',
      body: { drm: { scheme: 'cenc', rotateEverySegments: 10, cencIvSize: 8, keys: { provider: 'local' } } },
    },
    { method: 'POST', path: 'tokens', body: { scope: 'ingest', pipeline: 'A' } },
    {
      method: 'POST',
      path: 'captions',
      token: 'captions',
      body: {
        language: 'en',
        cues: [
          { start: new Date(k * c.D + 1000).toISOString(), end: new Date(k * c.D + 2000).toISOString(), text: 'Hi' },
        ],
      },
    },
    { method: 'GET', path: 'state' },
    { method: 'GET', path: 'storage' },
  ];
}

async function controlJob(rng: Rng, c: Corpus): Promise<Job> {
  const route = rng.pick(controls(c));
  const ops: string[] = [];
  let event = c.controlEvent;
  if (rng.chance(0.05)) {
    event = rng.pick(['no-such-event-x1', 'UPPER', 'a'.repeat(70), '-x']);
    ops.push(`event := ${event}`);
  }
  let path = route.path;
  if (path === 'masks/1' && rng.chance(0.5))
    path = `masks/${rng.pick(['0', '-1', 'x', '99999999999999999999', '1e3', '2'])}`;
  let body: Uint8Array | undefined;
  if (route.body !== undefined) {
    const m = rng.chance(0.15)
      ? { bytes: new TextEncoder().encode(JSON.stringify(route.body)), ops: ['(unmutated)'] }
      : mutateJson(rng, route.body);
    body = m.bytes;
    ops.push(...m.ops);
  }
  // A token for a malformed event id cannot be minted: use the control event's (the path is refused anyway).
  const tokenEvent = EventId.safeParse(event).success ? event : c.controlEvent;
  const token = route.token === 'captions' ? await devToken('captions', tokenEvent) : DEV_OPERATOR_TOKEN;
  return {
    what: `${route.method} /api/events/${event}/${path}`,
    ops,
    method: route.method,
    path: `/api/events/${event}/${path}`,
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType(rng, 'application/json', ops) },
    body,
  };
}

/** What players read, between the writes: manifests must keep answering whatever the controls did. */
async function readJob(rng: Rng, c: Corpus): Promise<Job> {
  const event = rng.chance(0.5) ? c.controlEvent : rng.pick(c.mediaEvents);
  const file = rng.pick([
    'index.mpd',
    'index.m3u8',
    'v1/index.m3u8',
    'a1/index.m3u8',
    'text-en/index.m3u8',
    'v1/init.mp4',
  ]);
  const query =
    file.endsWith('/index.m3u8') && rng.chance(0.3) ? rng.pick(['?_HLS_skip=YES', '?_HLS_skip=v2', '?_HLS_skip=']) : '';
  const path = `/live/${event}/${file}${query}`;
  return { what: `GET ${path}`, ops: [], method: 'GET', path, headers: {} };
}
