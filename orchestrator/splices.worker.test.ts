/**
 * POST /api/events/{event}/splices in the real Worker and its Durable Objects: an operator's break
 * and a feed's break (the bridge's ingest token) reach every region's origin once, however many
 * times and from however many pipelines it is posted; bad requests are 4xx and store nothing.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { fromBase64, parseSpliceSection, encodeSpliceInsert, toBase64 } from '../contract/scte35-section.ts';
import type { Splice } from '../contract/splices.ts';
import { devToken, ingestPut, operatorCall, randomEventId } from '../test/ingest-client.ts';
import { liveK, loadMedia, type Media, segmentFor } from '../test/media.ts';

const url = inject('workerUrl');
const call = (path: string, init?: Parameters<typeof operatorCall>[2]) => operatorCall(url, path, init);
const error = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

async function created(): Promise<string> {
  const event = randomEventId('splice');
  expect((await call('/api/events', { method: 'POST', body: { id: event } })).status).toBe(201);
  return event;
}
const post = (event: string, body: unknown, token?: string | null) =>
  call(`/api/events/${event}/splices`, { method: 'POST', body, token });
/** The state's splices: each with the time that region's origin first received it. */
const receivedIn = async (event: string, region: string): Promise<(Splice & { receivedAt: string })[]> => {
  const res = await call(`/api/events/${event}/state?region=${region}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { splices: (Splice & { receivedAt: string })[] }).splices;
};
const splicesIn = async (event: string, region: string): Promise<Splice[]> =>
  (await receivedIn(event, region)).map(({ receivedAt: _, ...splice }) => splice);
const timelineSplices = async (event: string) => {
  const entries = (
    (await (await call(`/api/events/${event}/timeline`)).json()) as {
      entries: { who: string; what: string; detail: Record<string, unknown> }[];
    }
  ).entries;
  return entries.filter((e) => e.what === 'splice');
};

describe('POST /api/events/{event}/splices', () => {
  it("an operator's immediate break: 201, a splice_insert OUT in both regions, one timeline entry", async () => {
    const event = await created();
    const before = Date.now();
    const res = await post(event, { durationSeconds: 30 });
    expect(res.status).toBe(201);
    const { splice, added } = (await res.json()) as { splice: Splice; added: boolean };
    expect(added).toBe(true);
    expect(splice).toMatchObject({ source: 'operator', durationMs: 30_000 });
    expect(splice.outAt).toBeGreaterThanOrEqual(before);
    expect(parseSpliceSection(fromBase64(splice.scte35))).toMatchObject({
      command: 'splice_insert',
      spliceEventId: splice.id,
      outOfNetwork: true,
      breakDuration: 30 * 90_000,
    });
    for (const region of ['r1', 'r2']) {
      const [{ receivedAt, ...stored }] = await receivedIn(event, region);
      expect(stored).toEqual(splice);
      expect(Date.parse(receivedAt)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(receivedAt)).toBeLessThanOrEqual(Date.now());
    }
    const entries = await timelineSplices(event);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ who: 'operator', detail: { id: splice.id, durationMs: 30_000 } });
  });

  it("the feed's break posted by pipelines A and B (and retried) is stored once, with the feed's own section", async () => {
    const event = await created();
    const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 4000).toISOString();
    const section = toBase64(
      encodeSpliceInsert({ spliceEventId: 1234, outOfNetwork: true, ptsTime: 1, breakDuration: 30 * 90_000 }),
    );
    const body = { at, durationSeconds: 30, scte35: section };
    const a = await post(event, body, await devToken('ingest', event, 'A'));
    expect(a.status).toBe(201);
    const firstReceived = (await receivedIn(event, 'r1'))[0].receivedAt;
    await new Promise((r) => setTimeout(r, 5));
    const b = await post(event, body, await devToken('ingest', event, 'B'));
    expect(b.status).toBe(200);
    const again = await post(event, body, await devToken('ingest', event));
    expect(again.status).toBe(200);
    const answers = [(await a.json()) as { splice: Splice }, (await b.json()) as { splice: Splice; added: boolean }];
    expect(answers[1].added).toBe(false);
    expect(answers[1].splice).toEqual(answers[0].splice);
    const expected: Splice = { id: 1234, outAt: Date.parse(at), durationMs: 30_000, source: 'feed', scte35: section };
    for (const region of ['r1', 'r2']) expect(await splicesIn(event, region)).toEqual([expected]);
    // The copies posted later found it stored: it was received when pipeline A's came.
    expect((await receivedIn(event, 'r1'))[0].receivedAt).toBe(firstReceived);
    expect(await timelineSplices(event)).toHaveLength(1);
  });

  it('an event with splicesOnBoundary stores the break on segment boundaries, the same for A and B', async () => {
    const event = await created();
    const patch = await call(`/api/events/${event}/config`, { method: 'PATCH', body: { splicesOnBoundary: true } });
    expect(patch.status).toBe(200);
    const outAt = Math.ceil(Date.now() / 2000) * 2000 + 4700; // 0.7 s into a segment
    const body = { at: new Date(outAt).toISOString(), durationSeconds: 30, id: 31 };
    const a = await post(event, body, await devToken('ingest', event, 'A'));
    const b = await post(event, body, await devToken('ingest', event, 'B'));
    expect([a.status, b.status]).toEqual([201, 200]);
    const { splice } = (await a.json()) as { splice: Splice };
    // OUT moves 1.3 s to the next boundary; the IN moves to the boundary after outAt + 30 s: 30 s again.
    expect(splice.outAt).toBe(outAt + 1300);
    expect(splice.durationMs).toBe(30_000);
    expect(parseSpliceSection(fromBase64(splice.scte35))).toMatchObject({
      spliceEventId: 31,
      ptsTime: ((outAt + 1300) * 90) % 2 ** 33,
    });
    for (const region of ['r1', 'r2']) expect(await splicesIn(event, region)).toEqual([splice]);
  });

  it('a different break under a stored id is a 409 that changes nothing', async () => {
    const event = await created();
    expect((await post(event, { durationSeconds: 30, id: 77 })).status).toBe(201);
    const stored = await splicesIn(event, 'r1');
    const res = await post(event, { durationSeconds: 60, id: 77 });
    expect(res.status).toBe(409);
    expect((await error(res)).code).toBe('SPLICE_CONFLICT');
    for (const region of ['r1', 'r2']) expect(await splicesIn(event, region)).toEqual(stored);
  });

  it.each([
    [{}, 'durationSeconds'],
    [{ durationSeconds: 0 }, 'durationSeconds'],
    [{ durationSeconds: 30, at: 'soon' }, 'at'],
    [{ durationSeconds: 30, id: 2 ** 32 }, 'id'],
    [{ durationSeconds: 30, colour: 'red' }, 'colour'],
    [{ durationSeconds: 30, scte35: 'AAAA' }, 'scte35'],
    [{ durationSeconds: 30, at: '2020-01-01T00:00:00Z' }, 'at'],
    [{ durationSeconds: 30, at: '2099-01-01T00:00:00Z' }, 'at'],
  ])('a bad body %j is a 400 naming %s, and nothing is stored', async (body, field) => {
    const event = await created();
    const res = await post(event, body);
    expect(res.status).toBe(400);
    const err = await error(res);
    expect(err.code).toBe('BAD_BODY');
    expect(err.message).toContain(field);
    for (const region of ['r1', 'r2']) expect(await splicesIn(event, region)).toEqual([]);
  });

  it("credentials: none 401; read-only, captions or another event's ingest token 403; unknown event 404", async () => {
    const event = await created();
    const body = { durationSeconds: 30 };
    expect((await post(event, body, null)).status).toBe(401);
    expect((await post(event, body, 'dev-operator-read-token')).status).toBe(403);
    expect((await post(event, body, await devToken('captions', event))).status).toBe(403);
    const other = await post(event, body, await devToken('ingest', 'another-event'));
    expect(other.status).toBe(403);
    expect((await error(other)).message).toContain('another-event');
    for (const region of ['r1', 'r2']) expect(await splicesIn(event, region)).toEqual([]);
    const missing = await post(randomEventId('nothing'), body);
    expect(missing.status).toBe(404);
    expect((await error(missing)).code).toBe('EVENT_NOT_FOUND');
  });
});

describe('the break in what players get', () => {
  const D = 2000;
  let video: Media;
  beforeAll(async () => {
    video = await loadMedia({ kind: 'video' });
  });

  it('the live playlist and MPD carry the stored break: the same id and time in both', async () => {
    const event = await created();
    const k = liveK(D) - 3;
    expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init)).status).toBe(201);
    for (const n of [k, k + 1, k + 2])
      expect((await ingestPut(url, `${event}/A/v1/${n}.m4s`, segmentFor(video, n, D))).status).toBe(201);
    const at = new Date((k + 1) * D).toISOString();
    const res = await post(event, { at, durationSeconds: 30, id: 99 });
    expect(res.status).toBe(201);
    const { splice } = (await res.json()) as { splice: Splice };

    const playlist = await (await fetch(`${url}/live/${event}/v1/index.m3u8`)).text();
    const out = playlist.split('\n').filter((l) => l.startsWith('#EXT-X-DATERANGE'));
    expect(out).toHaveLength(1);
    expect(out[0]).toContain(`ID="splice-99",START-DATE="${at}",PLANNED-DURATION=30.000`);
    const hex = /SCTE35-OUT=0x([0-9A-F]+)/.exec(out[0])![1];
    expect(Buffer.from(hex, 'hex').toString('base64')).toBe(splice.scte35);

    const mpd = await (await fetch(`${url}/live/${event}/index.mpd`)).text();
    expect(mpd).toContain('<EventStream schemeIdUri="urn:scte:scte35:2014:xml+bin" timescale="1000">');
    expect(mpd).toContain(`<Event presentationTime="${(k + 1) * D}" duration="30000" id="99">`);
    expect(mpd).toContain(`<scte35:Binary>${splice.scte35}</scte35:Binary>`);
  });
});
