/**
 * Player-facing routes against a real `wrangler dev`: live-edge semantics (404 with a TTL that
 * expires before the due time, hold until published, 410), candidate selection, chunked storage
 * of big segments, manifests, CORS and the clock.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultEventConfig } from '../contract/event-config.ts';
import { expectedPublishMs } from '../contract/epoch.ts';
import { loadMedia as encodeMedia, liveK, type Media, segmentFor, withFiller } from '../test/media.ts';
import { DEV_OPERATOR_TOKEN, getBytes, ingestPut, randomEventId } from '../test/ingest-client.ts';

const url = inject('workerUrl');
const { segmentDurationMs: D, pipelineDelayMs, dvrWindowSeconds } = defaultEventConfig;
let video: Media;
let audio: Media;

beforeAll(async () => {
  [video, audio] = await Promise.all([encodeMedia({ kind: 'video' }), encodeMedia({ kind: 'audio' })]);
});

async function newEvent(pipelines = ['A']) {
  const event = randomEventId();
  for (const p of pipelines) expect((await ingestPut(url, `${event}/${p}/v1/init.mp4`, video.init)).status).toBe(201);
  return event;
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

const storage = async (event: string) =>
  (await (
    await fetch(`${url}/api/events/${event}/storage`, { headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` } })
  ).json()) as { candidates: number; chunks: number; bytes: number };

describe('segments', () => {
  it('round-trips a segment bigger than the 2 MB row cap byte-exact (stored in chunks)', async () => {
    const big = withFiller(video, 40_000);
    const event = randomEventId();
    const k = liveK(D) - 2;
    const segment = segmentFor(big, k, D);
    expect(segment.byteLength).toBeGreaterThan(2 * 1024 * 1024);
    expect((await ingestPut(url, `${event}/A/v1/init.mp4`, big.init)).status).toBe(201);
    expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, segment)).status).toBe(201);
    const { res, bytes } = await getBytes(`${url}/live/${event}/v1/${k}.m4s`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=86400, immutable');
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(same(bytes, segment)).toBe(true);
    const stats = await storage(event);
    expect(stats.chunks).toBe(Math.ceil(segment.byteLength / (1024 * 1024)));
    expect(stats.bytes).toBe(segment.byteLength);
  });

  it('answers a segment that is not yet due 404 with a max-age that runs out before it is due', async () => {
    const event = await newEvent();
    const k = liveK(D) + 10;
    const res = await fetch(`${url}/live/${event}/v1/${k}.m4s`);
    const now = Date.now();
    expect(res.status).toBe(404);
    const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(now + maxAge * 1000).toBeLessThan(expectedPublishMs(k, D, pipelineDelayMs));
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('SEGMENT_NOT_YET_AVAILABLE');
  });

  it('answers 410 for a segment never produced past its deadline, and outside the DVR window', async () => {
    const event = await newEvent();
    expect((await fetch(`${url}/live/${event}/v1/${liveK(D) - 10}.m4s`)).status).toBe(410);
    const old = liveK(D) - dvrWindowSeconds / (D / 1000) - 5;
    // Ingest refuses a K older than the window (it would only be evicted again); a stored segment
    // that leaves the window is gone too (operator-routes.worker.test.ts shrinks the window).
    const put = await ingestPut(url, `${event}/A/v1/${old}.m4s`, segmentFor(video, old, D));
    expect(put.status).toBe(400);
    expect(((await put.json()) as { error: { code: string } }).error.code).toBe('SEGMENT_NUMBER_IMPLAUSIBLE');
    const res = await fetch(`${url}/live/${event}/v1/${old}.m4s`);
    expect(res.status).toBe(410);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/DVR window/);
    expect(await storage(event)).toMatchObject({ candidates: 0, chunks: 0 });
  });

  it('holds a request for the live-edge segment and answers 200 right after the PUT lands', async () => {
    const event = await newEvent();
    // The segment whose expected publish time is within the next D: the origin holds it.
    const k = Math.ceil((Date.now() - pipelineDelayMs) / D) - 1;
    const segment = segmentFor(video, k, D);
    const held = getBytes(`${url}/live/${event}/v1/${k}.m4s`).then((r) => ({ ...r, at: Date.now() }));
    await new Promise((r) => setTimeout(r, 400));
    const putAt = Date.now();
    expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, segment)).status).toBe(201);
    const { res, bytes, at } = await held;
    expect(res.status).toBe(200);
    expect(same(bytes, segment)).toBe(true);
    expect(at - putAt).toBeLessThan(1000);
    expect(res.headers.get('x-candidate')).toBe('pipeline=A; region=r1; defects=none');
  });

  it('selects the clean candidate over a preferred defective one, and says so', async () => {
    const event = await newEvent(['A', 'B']);
    const k = liveK(D) - 2;
    const short = segmentFor(video, k, D, { keepSamples: 30 });
    const clean = segmentFor(video, k, D);
    expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, short)).headers.get('x-segment-defects')).toBe('short');
    expect((await ingestPut(url, `${event}/B/v1/${k}.m4s`, clean)).status).toBe(201);
    const { res, bytes } = await getBytes(`${url}/live/${event}/v1/${k}.m4s`);
    expect(res.headers.get('x-candidate')).toBe('pipeline=B; region=r1; defects=none');
    expect(same(bytes, clean)).toBe(true);
    // Both defective: the least defective wins; publisher-reported defects count too.
    const k2 = k - 1;
    expect(
      (await ingestPut(url, `${event}/A/v1/${k2}.m4s`, segmentFor(video, k2, D), { defects: 'encoder-glitch, freeze' }))
        .status,
    ).toBe(201);
    expect(
      (await ingestPut(url, `${event}/B/v1/${k2}.m4s`, segmentFor(video, k2, D, { keepSamples: 30 }))).status,
    ).toBe(201);
    expect((await fetch(`${url}/live/${event}/v1/${k2}.m4s`)).headers.get('x-candidate')).toBe(
      'pipeline=B; region=r1; defects=short',
    );
  });

  it('answers unknown events and tracks 404 with a short negative TTL', async () => {
    const unknownEvent = await fetch(`${url}/live/${randomEventId()}/v1/${liveK(D)}.m4s`);
    expect(unknownEvent.status).toBe(404);
    expect(unknownEvent.headers.get('cache-control')).toBe('public, max-age=1');
    expect(unknownEvent.headers.get('access-control-allow-origin')).toBe('*');
    const event = await newEvent();
    const unknownTrack = await fetch(`${url}/live/${event}/nope/init.mp4`);
    expect(unknownTrack.status).toBe(404);
    expect(((await unknownTrack.json()) as { error: { code: string } }).error.code).toBe('TRACK_NOT_FOUND');
    expect((await fetch(`${url}/live/${randomEventId()}/index.mpd`)).status).toBe(404);
  });
});

describe('manifests, CORS and the clock', () => {
  it('serves the MPD and HLS playlists with the right content type, TTL and CORS', async () => {
    const event = randomEventId();
    const k = liveK(D) - 2;
    expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init)).status).toBe(201);
    expect(
      (
        await ingestPut(url, `${event}/A/aen/init.mp4`, audio.init, {
          contentType: 'audio/mp4',
          meta: { bandwidth: 96_000, language: 'en' },
        })
      ).status,
    ).toBe(201);
    expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, segmentFor(video, k, D))).status).toBe(201);
    expect(
      (await ingestPut(url, `${event}/A/aen/${k}.m4s`, segmentFor(audio, k, D), { contentType: 'audio/mp4' })).status,
    ).toBe(201);

    const cases: [string, string, RegExp][] = [
      ['index.mpd', 'application/dash+xml', /<MPD[\s\S]*avc1\.[\s\S]*mp4a\.40\.2/],
      ['index.m3u8', 'application/vnd.apple.mpegurl', /^#EXTM3U[\s\S]*v1\/index\.m3u8/],
      ['v1/index.m3u8', 'application/vnd.apple.mpegurl', new RegExp(`^#EXTM3U[\\s\\S]*${k}\\.m4s`)],
      ['aen/index.m3u8', 'application/vnd.apple.mpegurl', /^#EXTM3U/],
    ];
    for (const [path, type, body] of cases) {
      const res = await fetch(`${url}/live/${event}/${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      // Half a segment; a media playlist no longer than until its next segment ends (whole
      // seconds downstream: under one, not kept there).
      const ttl = Number(res.headers.get('x-ttl-ms'));
      if (path.includes('/')) expect(ttl).toBeLessThanOrEqual(D / 2);
      else expect(ttl).toBe(D / 2);
      expect(res.headers.get('cache-control')).toBe(ttl >= 1000 ? 'public, max-age=1' : 'no-store');
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(await res.text()).toMatch(body);
    }
    expect((await fetch(`${url}/live/${event}/nope/index.m3u8`)).status).toBe(404);
  });

  it('answers CORS preflight and exposes x-candidate', async () => {
    const res = await fetch(`${url}/live/any-event/v1/1.m4s`, {
      method: 'OPTIONS',
      headers: { origin: 'https://player.example', 'access-control-request-method': 'GET' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toMatch(/GET/);
    expect(res.headers.get('access-control-expose-headers')).toMatch(/x-candidate/);
  });

  it('GET /time is the current UTC in ISO-8601, never cached, with CORS', async () => {
    const res = await fetch(`${url}/time`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const text = await res.text();
    expect(text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Math.abs(Date.parse(text) - Date.now())).toBeLessThan(2000);
  });
});
