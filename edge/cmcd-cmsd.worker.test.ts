/**
 * CMCD in, CMSD out (docs/cmcd.md) on the real Worker in workerd: players' CMCD (query or headers)
 * moves the event's viewer counters in the operator state and never the cache key (different
 * CMCD, one origin fill); segment, init and manifest answers carry CMSD-Static and CMSD-Dynamic
 * that the SVTA library parses, and CMSD-Dynamic says whether the edge cache answered.
 */
import { toCmcdHeaders, toCmcdQuery } from '@svta/cml-cmcd';
import { decodeCmsdDynamic, decodeCmsdStatic } from '@svta/cml-cmsd';
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { defaultEventConfig } from '../contract/event-config.ts';
import { DEV_OPERATOR_TOKEN, ingestPut, randomEventId } from '../test/ingest-client.ts';
import { liveK, loadMedia, type Media, segmentFor } from '../test/media.ts';
import { CMCD_REPORT_INTERVAL_MS } from './cmcd-tally.ts';
import { CMSD_CACHE_KEY, CMSD_SERVER } from './cmsd.ts';

const url = inject('workerUrl');
const { segmentDurationMs: D } = defaultEventConfig;
let video: Media;
beforeAll(async () => {
  video = await loadMedia({ kind: 'video' });
});

const operator = { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Viewers {
  reports: number;
  sessions: { active: number; seen: number };
  requests: { withCmcd: number; withoutCmcd: number; malformed: number };
  bitrateKbps: Record<string, Record<string, number>>;
  bufferStarvation: number;
  startup: number;
  streamType: Record<string, number>;
  streamingFormat: Record<string, number>;
  objectType: Record<string, number>;
}

async function state(event: string) {
  const res = await fetch(`${url}/api/events/${event}/state`, { headers: operator });
  expect(res.status).toBe(200);
  return (await res.json()) as { viewers: Viewers; segmentRequests: { bySegment: Record<string, number> } };
}

/** What the origin object holds, read straight from it: what reports reached it, without the state route's flush. */
async function originViewers(event: string): Promise<Viewers> {
  const home = env.EVENT_ORIGIN.get(env.EVENT_ORIGIN.idFromName(`${event}:r1`));
  const result = await home.eventState();
  if (!result.ok) throw new Error(result.message);
  return result.value.viewers as Viewers;
}

/** An event with one stored video segment K (a few segments behind the live edge). */
async function eventWithSegment(prefix: string): Promise<{ event: string; k: number; bytes: Uint8Array }> {
  const event = randomEventId(prefix);
  const k = liveK(D) - 3;
  const bytes = segmentFor(video, k, D);
  expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init)).status).toBe(201);
  expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, bytes)).status).toBe(201);
  return { event, k, bytes };
}

const token = (v: unknown) => (typeof v === 'symbol' ? v.description : v);

describe('CMCD in', () => {
  it('different CMCD on the same segment: one origin fill, then cache hits', async () => {
    const { event, k, bytes } = await eventWithSegment('cmcd-key');
    const path = `${url}/live/${event}/v1/${k}.m4s`;
    const answers = [
      await fetch(`${path}?${toCmcdQuery({ sid: 'key-1', br: [3000], ot: 'v', su: true })}`),
      await fetch(`${path}?${toCmcdQuery({ sid: 'key-2', br: [800], ot: 'v', bs: true })}`),
      await fetch(path, { headers: toCmcdHeaders({ sid: 'key-3', br: [1500], ot: 'v' }) }),
      await fetch(path),
    ];
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    }
    expect(answers.map((r) => r.headers.get('x-cache'))).toEqual(['origin', 'hot', 'hot', 'hot']);
    expect((await state(event)).segmentRequests.bySegment[`v1/${k}`]).toBe(1);
  });

  it('different CMCD on a personalised manifest: one cache entry (the key has the device, not CMCD)', async () => {
    const { event } = await eventWithSegment('cmcd-mpd');
    const mpd = `${url}/live/${event}/index.mpd`;
    const first = await fetch(`${mpd}?device=browser&${toCmcdQuery({ sid: 'm1', ot: 'm', su: true })}`);
    const second = await fetch(`${mpd}?${toCmcdQuery({ sid: 'm2', ot: 'm', sf: 'd' })}&device=browser`);
    const third = await fetch(`${mpd}?device=browser`, { headers: toCmcdHeaders({ sid: 'm3', ot: 'm' }) });
    expect([first.status, second.status, third.status]).toEqual([200, 200, 200]);
    expect([first, second, third].map((r) => r.headers.get('x-cache'))).toEqual(['origin', 'hot', 'hot']);
    expect(await second.text()).toBe(await first.text());
  });

  it('counts sessions, bitrates, starvation, startup, stream type and format in the operator state', async () => {
    const { event, k } = await eventWithSegment('cmcd-count');
    const path = `${url}/live/${event}/v1/${k}.m4s`;
    const session = { st: 'l', sf: 'd', ot: 'v' } as const;
    await fetch(`${path}?${toCmcdQuery({ ...session, sid: 's1', br: [3000], su: true })}`);
    await fetch(`${path}?${toCmcdQuery({ ...session, sid: 's1', br: [3000], bs: true })}`);
    await fetch(path, { headers: toCmcdHeaders({ ...session, sid: 's2', br: [800], sf: 'h' }) });
    await fetch(`${path}?CMCD=${encodeURIComponent('br=(((')}`);
    await fetch(path);
    // A request for an event that does not exist is not counted (and creates nothing).
    await fetch(`${url}/live/${randomEventId('nobody')}/v1/${k}.m4s?${toCmcdQuery({ sid: 'ghost' })}`);

    const { viewers } = await state(event);
    expect(viewers.sessions).toMatchObject({ active: 2, seen: 2 });
    expect(viewers.requests).toEqual({ withCmcd: 3, withoutCmcd: 1, malformed: 1 });
    expect(viewers.bitrateKbps).toEqual({ v: { '3000': 2, '800': 1 } });
    expect(viewers.bufferStarvation).toBe(1);
    expect(viewers.startup).toBe(1);
    expect(viewers.streamType).toEqual({ l: 3 });
    expect(viewers.streamingFormat).toEqual({ d: 2, h: 1 });
    expect(viewers.objectType).toEqual({ v: 3 });
  });

  it('an isolate reports to the origin by itself, at most every interval', async () => {
    const { event, k } = await eventWithSegment('cmcd-flush');
    const path = `${url}/live/${event}/v1/${k}.m4s`;
    // The first request of an event is reported at once (after the response).
    await fetch(`${path}?${toCmcdQuery({ sid: 'f1' })}`);
    await vi.waitFor(async () => expect((await originViewers(event)).requests.withCmcd).toBe(1));
    // The next ones wait for the interval …
    await fetch(`${path}?${toCmcdQuery({ sid: 'f2' })}`);
    await fetch(`${path}?${toCmcdQuery({ sid: 'f3' })}`);
    await sleep(50);
    expect((await originViewers(event)).requests.withCmcd).toBe(1);
    // … and go with the first request after it.
    await sleep(CMCD_REPORT_INTERVAL_MS);
    await fetch(path);
    await vi.waitFor(async () =>
      expect((await originViewers(event)).requests).toMatchObject({ withCmcd: 3, withoutCmcd: 1 }),
    );
    const viewers = await originViewers(event);
    expect(viewers.sessions.active).toBe(3);
    expect(viewers.reports).toBe(2);
  });
});

describe('CMSD out', () => {
  it('a segment answer carries CMSD-Static (kept) and CMSD-Dynamic (per response) that parse', async () => {
    const before = Date.now();
    const { event, k, bytes } = await eventWithSegment('cmsd-seg');
    const after = Date.now();
    // A manifest teaches this edge the segment duration (CMSD-Static `d`, `br`).
    expect((await fetch(`${url}/live/${event}/index.mpd`)).status).toBe(200);
    const first = await fetch(`${url}/live/${event}/v1/${k}.m4s`);
    const second = await fetch(`${url}/live/${event}/v1/${k}.m4s?${toCmcdQuery({ sid: 'x' })}`);
    expect([first.headers.get('x-cache'), second.headers.get('x-cache')]).toEqual(['origin', 'hot']);

    const cmsdStatic = decodeCmsdStatic(first.headers.get('cmsd-static') ?? '');
    expect(cmsdStatic).toMatchObject({ ot: 'v', st: 'l', d: D, br: Math.round((bytes.byteLength * 8) / D) });
    expect(cmsdStatic.at).toBeGreaterThanOrEqual(before);
    expect(cmsdStatic.at).toBeLessThanOrEqual(after);
    // Static: the same bytes for every response of the object.
    expect(second.headers.get('cmsd-static')).toBe(first.headers.get('cmsd-static'));

    const [miss] = decodeCmsdDynamic(first.headers.get('cmsd-dynamic') ?? '');
    const [hit] = decodeCmsdDynamic(second.headers.get('cmsd-dynamic') ?? '');
    expect(miss.value).toBe(CMSD_SERVER);
    expect(token(miss.params[CMSD_CACHE_KEY])).toBe('miss');
    expect(token(hit.params[CMSD_CACHE_KEY])).toBe('hit');
    expect(typeof hit.params.rd).toBe('number');
    // Not under load here: no duress, no bitrate cap.
    expect(hit.params.du).toBeUndefined();
    expect(hit.params.mb).toBeUndefined();
    // Players on other origins may read them.
    expect(first.headers.get('access-control-expose-headers')).toMatch(/cmsd-static, cmsd-dynamic/);
  });

  it('init and manifest answers carry CMSD too; a 304 carries CMSD-Dynamic', async () => {
    const { event } = await eventWithSegment('cmsd-other');
    const init = await fetch(`${url}/live/${event}/v1/init.mp4`);
    expect(decodeCmsdStatic(init.headers.get('cmsd-static') ?? '')).toEqual({ ot: 'i', st: 'l' });
    const mpd = await fetch(`${url}/live/${event}/index.mpd`);
    expect(decodeCmsdStatic(mpd.headers.get('cmsd-static') ?? '')).toMatchObject({ ot: 'm', st: 'l', sf: 'd' });
    const m3u8 = await fetch(`${url}/live/${event}/index.m3u8`);
    expect(decodeCmsdStatic(m3u8.headers.get('cmsd-static') ?? '')).toMatchObject({ ot: 'm', st: 'l', sf: 'h' });
    const again = await fetch(`${url}/live/${event}/v1/init.mp4`, {
      headers: { 'if-none-match': init.headers.get('etag') ?? '' },
    });
    expect(again.status).toBe(304);
    expect(token(decodeCmsdDynamic(again.headers.get('cmsd-dynamic') ?? '')[0].params[CMSD_CACHE_KEY])).toBe('hit');
  });

  it('the kept answer never holds CMSD-Dynamic: each response gets its own', async () => {
    const { event, k } = await eventWithSegment('cmsd-hop');
    const first = await fetch(`${url}/live/${event}/v1/${k}.m4s`);
    const second = await fetch(`${url}/live/${event}/v1/${k}.m4s`);
    // One CMSD-Dynamic entry each (this edge's), not one more per response served from the cache.
    expect(decodeCmsdDynamic(first.headers.get('cmsd-dynamic') ?? '')).toHaveLength(1);
    expect(decodeCmsdDynamic(second.headers.get('cmsd-dynamic') ?? '')).toHaveLength(1);
    expect(second.headers.get('cmsd-dynamic')).not.toBe(first.headers.get('cmsd-dynamic'));
  });
});
