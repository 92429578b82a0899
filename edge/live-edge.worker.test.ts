/**
 * Live-edge response semantics against a real `wrangler dev`: a held request answered within
 * 50 ms of the publish, a defective candidate served only when no clean one arrives in time,
 * and 503 load shedding that drops DVR requests before live-edge ones.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultEventConfig } from '../contract/event-config.ts';
import { loadMedia as encodeMedia, liveK, segmentFor, type Media } from '../test/media.ts';
import { DEV_OPERATOR_TOKEN, getBytes, ingestPut, randomEventId } from '../test/ingest-client.ts';

const url = inject('workerUrl');
const { segmentDurationMs: D, pipelineDelayMs } = defaultEventConfig;
let video: Media;
beforeAll(async () => {
  video = await encodeMedia({ kind: 'video' });
});

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The segment due within the next D: the origin holds requests for it. */
const liveEdgeK = () => Math.ceil((Date.now() - pipelineDelayMs) / D) - 1;

async function newEvent(pipelines = ['A', 'B']) {
  const event = randomEventId();
  for (const p of pipelines) expect((await ingestPut(url, `${event}/${p}/v1/init.mp4`, video.init)).status).toBe(201);
  return event;
}

const configure = (event: string, body: unknown) =>
  fetch(`${url}/api/events/${event}/config`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('hold-open at the live edge', () => {
  it('answers a held request within 50 ms of the publish', async () => {
    const gaps: number[] = [];
    // Three rounds (one event each), so one scheduling blip on a busy 2-core machine does not decide it.
    for (let round = 0; round < 3; round++) {
      const event = await newEvent(['A']);
      const k = liveEdgeK();
      const segment = segmentFor(video, k, D);
      const held = getBytes(`${url}/live/${event}/v1/${k}.m4s`).then((r) => ({ ...r, at: performance.now() }));
      await sleep(300);
      const put = await ingestPut(url, `${event}/A/v1/${k}.m4s`, segment);
      const publishedAt = performance.now();
      expect(put.status).toBe(201);
      const { res, bytes, at } = await held;
      expect(res.status).toBe(200);
      expect(same(bytes, segment)).toBe(true);
      gaps.push(at - publishedAt);
    }
    console.log(`hold-open: response arrival minus PUT completion, ms: ${gaps.map((g) => g.toFixed(1)).join(', ')}`);
    expect(Math.min(...gaps)).toBeLessThan(50);
    expect(gaps.filter((g) => g < 50).length).toBeGreaterThanOrEqual(2);
  });

  /** Both pipelines published K-1 (so both are up), and A stores a short (defective) K. */
  async function defectiveFromA() {
    const event = await newEvent();
    const k = liveEdgeK();
    for (const p of ['A', 'B'])
      expect((await ingestPut(url, `${event}/${p}/v1/${k - 1}.m4s`, segmentFor(video, k - 1, D))).status).toBe(201);
    expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, segmentFor(video, k, D, { keepSamples: 20 }))).status).toBe(
      201,
    );
    return { event, k };
  }

  it('holds a request while a pipeline that is up still owes a clean copy, over an earlier defective one', async () => {
    const { event, k } = await defectiveFromA();
    const held = getBytes(`${url}/live/${event}/v1/${k}.m4s`);
    await sleep(300);
    const clean = segmentFor(video, k, D);
    expect((await ingestPut(url, `${event}/B/v1/${k}.m4s`, clean)).status).toBe(201);
    const { res, bytes } = await held;
    expect(res.headers.get('x-candidate')).toBe('pipeline=B; region=r1; defects=none');
    expect(same(bytes, clean)).toBe(true);
    expect(res.headers.get('cache-control')).toBe('public, max-age=86400, immutable');
  });

  it('serves the least defective candidate after the grace, flagged and briefly cached', async () => {
    const { event, k } = await defectiveFromA();
    expect((await configure(event, { defectiveGraceMs: 300 })).status).toBe(200);
    const started = Date.now();
    const res = await fetch(`${url}/live/${event}/v1/${k}.m4s`);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(res.headers.get('x-candidate')).toBe('pipeline=A; region=r1; defects=short');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('serves a defective candidate at once when every pipeline that is up has delivered', async () => {
    const { event, k } = await defectiveFromA();
    expect((await ingestPut(url, `${event}/B/v1/${k}.m4s`, segmentFor(video, k, D, { keepSamples: 10 }))).status).toBe(
      201,
    );
    const started = Date.now();
    const res = await fetch(`${url}/live/${event}/v1/${k}.m4s`);
    expect(Date.now() - started, 'well before the 3 s grace').toBeLessThan(1500);
    expect(res.headers.get('x-candidate')).toBe('pipeline=A; region=r1; defects=short');
  });
});

describe('a media playlist at the live edge', () => {
  it('lists a segment the moment it is published, from the edge cache, without holding any player', async () => {
    const event = await newEvent(['A']);
    // k is being captured now: its end, (k + 1)·D, is less than D away.
    const k = Math.floor(Date.now() / D);
    for (const j of [k - 2, k - 1])
      expect((await ingestPut(url, `${event}/A/v1/${j}.m4s`, segmentFor(video, j, D))).status).toBe(201);
    const playlist = `${url}/live/${event}/v1/index.m3u8`;
    const get = async () => {
      const started = performance.now();
      const res = await fetch(playlist);
      const text = new TextDecoder().decode(await res.arrayBuffer());
      return {
        lists: (j: number) => text.includes(`\n${j}.m4s`),
        cache: res.headers.get('x-cache'),
        ms: performance.now() - started,
      };
    };
    const first = await get();
    expect(first.lists(k - 1) && !first.lists(k)).toBe(true);
    // Past k's end: players get the playlist they had (k is not published) at once, and one
    // background refresh waits at the origin for k.
    await sleep((k + 1) * D - Date.now() + 200);
    const waiting = [await get()];
    await sleep(300);
    waiting.push(await get());
    for (const w of waiting) {
      expect(w.lists(k)).toBe(false);
      expect(w.ms).toBeLessThan(1000); // never held until k is due, 1.5 s after its end
    }
    expect(waiting.map((w) => w.cache)).toContain('stale');
    expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, segmentFor(video, k, D))).status).toBe(201);
    await sleep(50);
    // The refresh came back with k: the very next player gets it from the edge's copy.
    const after = await get();
    expect(after.lists(k)).toBe(true);
    expect(after.cache).toBe('hot');
  });

  it('the first look after the next segment landed gets it listed, though the kept copy went stale before', async () => {
    const event = await newEvent(['A']);
    // Early in a segment, so that there is time to publish before its last half.
    if (Date.now() % D > D / 2 - 400) await sleep(D - (Date.now() % D) + 50);
    const k = Math.floor(Date.now() / D);
    for (const j of [k - 2, k - 1])
      expect((await ingestPut(url, `${event}/A/v1/${j}.m4s`, segmentFor(video, j, D))).status).toBe(201);
    const playlist = `${url}/live/${event}/v1/index.m3u8`;
    // Looked at 500 ms before k ends: kept until k's end, then stale (served while a refresh
    // waits at the origin) until k is due.
    await sleep((k + 1) * D - Date.now() - 500);
    expect(await (await fetch(playlist)).text()).not.toContain(`\n${k}.m4s`);
    // One viewer, looking every 2 s: k ends and is published before its next look.
    await sleep((k + 1) * D - Date.now() + 100);
    expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, segmentFor(video, k, D))).status).toBe(201);
    const res = await fetch(playlist);
    expect(await res.text()).toContain(`\n${k}.m4s`);
    expect(res.headers.get('x-cache')).toBe('origin');
  });
});

describe('load shedding', () => {
  it('answers 503 with max-age=5 under overload, shedding DVR requests before live-edge ones', async () => {
    const event = await newEvent(['A']);
    const now = liveK(D);
    // Distinct segments: the edge coalesces requests for one segment into one origin request, so
    // only different objects reach the origin's gauge.
    const dvrKs = [30, 31, 32, 33, 34, 35].map((back) => now - back);
    const liveKs = [now - 3, now - 4, now - 5, now - 6];
    for (const k of [...dvrKs, ...liveKs])
      expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, segmentFor(video, k, D))).status).toBe(201);
    // Budget of 6 requests/s, DVR may use half of it.
    expect((await configure(event, { maxSegmentRequestsPerSecond: 6, dvrShareOfRequests: 0.5 })).status).toBe(200);
    await sleep(1100);
    const status = async (k: number) => {
      const res = await fetch(`${url}/live/${event}/v1/${k}.m4s`);
      return {
        status: res.status,
        cacheControl: res.headers.get('cache-control'),
        retryAfter: res.headers.get('retry-after'),
        code: res.status === 503 ? ((await res.json()) as { error: { code: string } }).error.code : null,
      };
    };
    // Bursts, so that all of them fall inside the gauge's one-second window even on a busy machine.
    const dvr = await Promise.all(dvrKs.slice(0, 5).map(status));
    expect(dvr.filter((r) => r.status === 200).length).toBe(3);
    expect(dvr.filter((r) => r.status === 503)).toEqual([
      { status: 503, cacheControl: 'public, max-age=5', retryAfter: '5', code: 'OVERLOADED' },
      { status: 503, cacheControl: 'public, max-age=5', retryAfter: '5', code: 'OVERLOADED' },
    ]);
    // DVR viewers are shed, yet the live edge still gets the rest of the budget.
    const live = await Promise.all(liveKs.map(status));
    expect(live.map((r) => r.status).sort()).toEqual([200, 200, 200, 503]);
    await sleep(1100);
    expect((await status(dvrKs[5])).status).toBe(200);
  });
});
