/**
 * Operator controls against a real `wrangler dev`: every change is visible to the very next
 * player request, and every rejected request (auth, body) leaves the stored state unchanged.
 */
import { Parser } from 'm3u8-parser';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parseEventState } from '../contract/event-state.ts';
import { loadMedia as encodeMedia, liveK, segmentFor, type Media } from '../test/media.ts';
import { DEV_OPERATOR_TOKEN, getBytes, ingestPut, randomEventId } from '../test/ingest-client.ts';

const url = inject('workerUrl');
const D = 2000;
let video: Media;
beforeAll(async () => {
  video = await encodeMedia({ kind: 'video' });
});

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

function api(
  event: string,
  path: string,
  init: { method?: string; body?: unknown; token?: string | null; contentType?: string } = {},
) {
  const headers: Record<string, string> = {};
  if (init.token !== null) headers.authorization = `Bearer ${init.token ?? DEV_OPERATOR_TOKEN}`;
  if (init.body !== undefined) headers['content-type'] = init.contentType ?? 'application/json';
  const body =
    init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
  return fetch(`${url}/api/events/${event}/${path}`, { method: init.method ?? 'GET', headers, body });
}

interface StateView {
  version: number;
  ended: boolean;
  endK: number | null;
  config: { pipelines: string[]; dvrWindowSeconds: number };
  masks: { id: number; pipeline: string; fromK: number; toK: number | null }[];
  pipelines: {
    pipeline: string;
    status: string;
    lastK: number;
    segments: number;
    defective: number;
    defects: Record<string, number>;
  }[];
  header: string;
  edge: { header: string } | null;
}
const state = async (event: string) => (await (await api(event, 'state')).json()) as StateView;
const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

/** Pipelines A and B both store clean segments k-2..k (A's k-1 is short). */
async function twoPipelineEvent() {
  const event = randomEventId();
  const k = liveK(D) - 3;
  for (const p of ['A', 'B']) expect((await ingestPut(url, `${event}/${p}/v1/init.mp4`, video.init)).status).toBe(201);
  const segs: Record<string, Record<number, Uint8Array>> = { A: {}, B: {} };
  for (const kk of [k - 2, k - 1, k]) {
    for (const p of ['A', 'B']) {
      const seg = p === 'A' && kk === k - 1 ? segmentFor(video, kk, D, { keepSamples: 20 }) : segmentFor(video, kk, D);
      segs[p][kk] = seg;
      expect((await ingestPut(url, `${event}/${p}/v1/${kk}.m4s`, seg)).status).toBe(201);
    }
  }
  return { event, k, segs, seg: (kk: number) => `${url}/live/${event}/v1/${kk}.m4s` };
}

describe('operator controls: auth and state', () => {
  it('401 without a token, 403 with a wrong one, 404 for an unknown event', async () => {
    const { event } = await twoPipelineEvent();
    expect((await api(event, 'state', { token: null })).status).toBe(401);
    expect((await api(event, 'state', { token: 'dev-ingest-token' })).status).toBe(403);
    expect(
      (await api(event, 'masks', { method: 'POST', body: { pipeline: 'A', fromK: 1 }, token: 'nope' })).status,
    ).toBe(403);
    expect((await state(event)).masks).toEqual([]);
    const unknown = await api(randomEventId(), 'state');
    expect(unknown.status).toBe(404);
    expect(await errorCode(unknown)).toBe('EVENT_NOT_FOUND');
  });

  it('reports version, pipeline health and the x-event-state header that every /live answer carries', async () => {
    const { event, k, seg } = await twoPipelineEvent();
    const s = await state(event);
    expect(s).toMatchObject({ version: 1, ended: false, endK: null });
    const a = s.pipelines.find((p) => p.pipeline === 'A')!;
    const b = s.pipelines.find((p) => p.pipeline === 'B')!;
    expect(a).toMatchObject({ lastK: k, segments: 3, defective: 1, defects: { short: 1 } });
    expect(b).toMatchObject({ lastK: k, segments: 3, defective: 0 });
    for (const path of [
      seg(k),
      `${url}/live/${event}/index.mpd`,
      `${url}/live/${event}/v1/index.m3u8`,
      seg(k + 1000),
      `${url}/live/${event}/nope/init.mp4`,
    ]) {
      const res = await fetch(path);
      const parsed = parseEventState(res.headers.get('x-event-state'));
      expect(parsed, path).toMatchObject({ version: 1, ended: false });
      expect(parsed!.pipelines.map((p) => p.pipeline)).toEqual(['A', 'B']);
      expect(parsed!.pipelines[0]).toMatchObject({ lastK: k, defective: 1 });
    }
    // The edge keeps the newest header it saw for the event.
    const after = await state(event);
    expect(parseEventState(after.edge?.header)).toMatchObject({ version: 1 });
  });
});

describe('operator controls: masks and preference', () => {
  it('masks a pipeline for a K range: the next request gets the other pipeline; unmasking restores it', async () => {
    const { event, k, segs, seg } = await twoPipelineEvent();
    expect((await getBytes(seg(k))).res.headers.get('x-candidate')).toMatch(/^pipeline=A;/);
    const res = await api(event, 'masks', { method: 'POST', body: { pipeline: 'A', fromK: k - 2, toK: k } });
    expect(res.status).toBe(201);
    const mask = (await res.json()) as { id: number };
    for (const kk of [k - 2, k]) {
      const got = await getBytes(seg(kk));
      expect(got.res.headers.get('x-candidate')).toBe('pipeline=B; region=r1; defects=none');
      expect(same(got.bytes, segs.B[kk])).toBe(true);
    }
    // The operator fetch still reaches the masked candidate.
    expect(
      (await fetch(`${seg(k)}?pipeline=A`, { headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` } })).status,
    ).toBe(200);
    expect((await state(event)).masks).toMatchObject([{ id: mask.id, pipeline: 'A', fromK: k - 2, toK: k }]);
    expect((await api(event, `masks/${mask.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await fetch(seg(k))).headers.get('x-candidate')).toMatch(/^pipeline=A;/);
    expect((await api(event, `masks/${mask.id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('a K whose only candidates are masked becomes a gap: 410 and EXT-X-GAP', async () => {
    const { event, k, seg } = await twoPipelineEvent();
    for (const p of ['A', 'B'])
      expect(
        (await api(event, 'masks', { method: 'POST', body: { pipeline: p, fromK: k - 2, toK: k - 2 } })).status,
      ).toBe(201);
    expect((await fetch(seg(k - 2))).status).toBe(410);
    const playlist = await (await fetch(`${url}/live/${event}/v1/index.m3u8`)).text();
    expect(playlist).not.toContain(`${k - 2}.m4s`); // before the first listed segment: not listed at all
    expect(playlist).toContain(`${k - 1}.m4s`);
  });

  it('rejects bad mask bodies with 400/415 and stores nothing', async () => {
    const { event } = await twoPipelineEvent();
    const bad: [unknown, string | undefined, number][] = [
      [{ pipeline: 'a', fromK: 1 }, undefined, 400],
      [{ pipeline: 'A' }, undefined, 400],
      [{ pipeline: 'A', fromK: 5, toK: 4 }, undefined, 400],
      [{ pipeline: 'A', fromK: '5' }, undefined, 400],
      [{ pipeline: 'A', fromK: 5, extra: true }, undefined, 400],
      ['{not json', undefined, 400],
      [{ pipeline: 'A', fromK: 5 }, 'text/plain', 415],
    ];
    for (const [body, contentType, status] of bad) {
      const res = await api(event, 'masks', { method: 'POST', body, contentType });
      expect(res.status, JSON.stringify(body)).toBe(status);
      if (status === 400) expect(await errorCode(res)).toBe('BAD_BODY');
    }
    expect((await state(event)).masks).toEqual([]);
  });

  it('sets the preferred pipeline order; bad patches change nothing', async () => {
    const { event, k, seg } = await twoPipelineEvent();
    const res = await api(event, 'config', { method: 'PATCH', body: { pipelines: ['B', 'A'] } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as StateView).config.pipelines).toEqual(['B', 'A']);
    expect((await fetch(seg(k))).headers.get('x-candidate')).toMatch(/^pipeline=B;/);
    for (const body of [
      { pipelines: ['A', 'A'] },
      { pipelines: [] },
      { segmentDurationMs: 4000 },
      {},
      { dvrWindowSeconds: 1 },
      { pipelines: ['B', 'A'], typo: 1 },
    ]) {
      const bad = await api(event, 'config', { method: 'PATCH', body });
      expect(bad.status, JSON.stringify(body)).toBe(400);
    }
    expect((await state(event)).config).toMatchObject({ pipelines: ['B', 'A'], dvrWindowSeconds: 7200 });
  });
});

describe('operator controls: version, DVR window, end', () => {
  it('bumping the version changes x-event-state and every ETag; If-None-Match answers 304 until then', async () => {
    const { event, k, seg } = await twoPipelineEvent();
    const first = await fetch(seg(k));
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"v1-[0-9a-f]{16}"$/);
    const again = await fetch(seg(k), { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const mpdEtag = (await fetch(`${url}/live/${event}/v1/index.m3u8`)).headers.get('etag');
    expect(mpdEtag).toMatch(/^"v1-/);
    const bump = await api(event, 'version', { method: 'POST' });
    expect(await bump.json()).toEqual({ version: 2 });
    const after = await fetch(seg(k), { headers: { 'if-none-match': etag } });
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).toMatch(/^"v2-/);
    expect(parseEventState(after.headers.get('x-event-state'))?.version).toBe(2);
    expect((await fetch(`${url}/live/${event}/v1/index.m3u8`)).headers.get('etag')).toMatch(/^"v2-/);
    expect((await api(event, 'version', { method: 'POST', body: { version: 7 } })).status).toBe(400);
    expect((await state(event)).version).toBe(2);
  });

  it('a shorter DVR window applies to the next request, the manifests, and storage', async () => {
    const { event, k, seg } = await twoPipelineEvent();
    const old = liveK(D) - 40; // 80 s ago: inside the default 2 h window
    expect((await ingestPut(url, `${event}/A/v1/${old}.m4s`, segmentFor(video, old, D))).status).toBe(201);
    expect((await fetch(seg(old))).status).toBe(200);
    expect(await (await fetch(`${url}/live/${event}/v1/index.m3u8`)).text()).toContain(`${old}.m4s`);
    expect((await api(event, 'config', { method: 'PATCH', body: { dvrWindowSeconds: 30 } })).status).toBe(200);
    expect((await fetch(seg(old))).status).toBe(410);
    expect((await fetch(seg(k))).status).toBe(200);
    const playlist = await (await fetch(`${url}/live/${event}/v1/index.m3u8`)).text();
    expect(playlist).not.toContain(`${old}.m4s`);
    expect(playlist).toContain(`${k}.m4s`);
    const mpd = await (await fetch(`${url}/live/${event}/index.mpd`)).text();
    expect(Number(/timeShiftBufferDepth="PT([\d.]+)S"/.exec(mpd)?.[1])).toBeLessThanOrEqual(30);
    // Eviction runs about a second after the window shrank.
    let stats = { oldestK: 0 };
    for (let i = 0; i < 20; i++) {
      stats = (await (await api(event, 'storage')).json()) as { oldestK: number };
      if (stats.oldestK > old) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(stats.oldestK).toBeGreaterThan(old);
  });

  it('keeps storage bounded by the DVR window while segments keep arriving', async () => {
    const { event } = await twoPipelineEvent();
    expect((await api(event, 'config', { method: 'PATCH', body: { dvrWindowSeconds: 10 } })).status).toBe(200);
    const now = liveK(D);
    const windowSegments = 10_000 / D;
    // 30 s of segments: two thirds of them are already older than the 10 s window, and ingest
    // refuses those (400); the rest is stored and leaves the window while the test runs.
    for (let k = now - 15; k <= now - 1; k++) {
      const status = (await ingestPut(url, `${event}/A/v1/${k}.m4s`, segmentFor(video, k, D))).status;
      if (k < now - windowSegments - 1) expect(status).toBe(400);
      else if (k > now - windowSegments + 1) expect([201, 204]).toContain(status);
    }
    // Both pipelines stored copies: at most the window (plus the segment in progress) of each.
    const bound = 2 * (windowSegments + 1);
    let stats = { candidates: Infinity, bytes: 0, oldestK: 0 };
    for (let i = 0; i < 20 && (stats.candidates > bound || stats.oldestK < liveK(D) - windowSegments - 1); i++) {
      await new Promise((r) => setTimeout(r, 250));
      stats = (await (await api(event, 'storage')).json()) as typeof stats;
    }
    // Everything older than the window was evicted by the alarm, whatever kept arriving.
    expect(stats.candidates).toBeLessThanOrEqual(bound);
    expect(stats.oldestK).toBeGreaterThanOrEqual(liveK(D) - windowSegments - 1);
    console.log(`storage with a 10 s window after 30 s of segments: ${JSON.stringify(stats)}`);
  });

  it('ending the event: HLS ENDLIST, static MPD, no segment after the end; a retry is harmless', async () => {
    const { event, k, seg } = await twoPipelineEvent();
    const res = await api(event, 'end', { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ended: true, endK: k });
    const playlist = await (await fetch(`${url}/live/${event}/v1/index.m3u8`)).text();
    const parser = new Parser();
    parser.push(playlist);
    parser.end();
    expect(parser.manifest.endList).toBe(true);
    expect(parser.manifest.segments.at(-1).uri).toBe(`${k}.m4s`);
    const mpdRes = await fetch(`${url}/live/${event}/index.mpd`);
    expect(await mpdRes.text()).toMatch(/type="static"/);
    expect(parseEventState(mpdRes.headers.get('x-event-state'))?.ended).toBe(true);
    const late = await ingestPut(url, `${event}/A/v1/${k + 1}.m4s`, segmentFor(video, k + 1, D));
    expect(late.status).toBe(409);
    expect(await errorCode(late)).toBe('EVENT_ENDED');
    expect((await fetch(seg(k + 1))).status).toBe(410);
    expect((await fetch(seg(k))).status).toBe(200);
    expect((await api(event, 'end', { method: 'POST' })).status).toBe(200);
    expect((await api(event, 'end', { method: 'POST', body: { lastK: k - 1 } })).status).toBe(409);
    expect((await state(event)).endK).toBe(k);
  });

  it('back-to-back: scheduling the next event adds a DASH Period and an HLS discontinuity that point at it', async () => {
    const { event, k } = await twoPipelineEvent();
    const next = randomEventId();
    const atK = k + 1;
    const other = await encodeMedia({ kind: 'video', size: '640x360' });
    expect((await ingestPut(url, `${next}/A/v1/init.mp4`, other.init)).status).toBe(201);
    for (const kk of [atK, atK + 1])
      expect((await ingestPut(url, `${next}/A/v1/${kk}.m4s`, segmentFor(other, kk, D))).status).toBe(201);
    for (const body of [{ event, atK }, { event: next, atK: String(atK) }, { event: 'Bad Id', atK }, { event: next }]) {
      expect((await api(event, 'next', { method: 'PUT', body })).status, JSON.stringify(body)).toBe(400);
    }
    const res = await api(event, 'next', { method: 'PUT', body: { event: next, atK } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { next: unknown }).next).toEqual({ eventId: next, atK });

    const mpd = await (await fetch(`${url}/live/${event}/index.mpd`)).text();
    expect(mpd).toContain(`<Period id="p1-${next}" start="PT${(atK * D) / 1000}S">`);
    expect(mpd).toContain(`<BaseURL>../${next}/</BaseURL>`);
    const playlistUrl = `${url}/live/${event}/v1/index.m3u8`;
    const playlist = await (await fetch(playlistUrl)).text();
    expect(playlist).toMatch(
      new RegExp(`${k}\\.m4s\\n#EXT-X-DISCONTINUITY\\n#EXT-X-MAP:URI="\\.\\./\\.\\./${next}/v1/init\\.mp4"`),
    );
    // The relative URIs resolve to the next event's own segments and init.
    const seg = await getBytes(new URL(`../../${next}/v1/${atK}.m4s`, playlistUrl).href);
    expect(seg.res.status).toBe(200);
    expect(same(seg.bytes, segmentFor(other, atK, D))).toBe(true);
    expect((await fetch(new URL(`../../${next}/v1/init.mp4`, playlistUrl).href)).status).toBe(200);

    expect((await api(event, 'next', { method: 'DELETE' })).status).toBe(200);
    expect(await (await fetch(playlistUrl)).text()).not.toContain(next);
  });
});
