/**
 * Two regions in one deployment (wrangler.toml REGIONS = "r1,r2") against a real `wrangler dev`:
 * ingest can target a region's origin, a bad region changes nothing anywhere, and operator
 * controls reach every region with the same values.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { loadMedia as encodeMedia, liveK, segmentFor, type Media } from '../test/media.ts';
import { DEV_OPERATOR_TOKEN, ensureEvent, getBytes, ingestPut, randomEventId } from '../test/ingest-client.ts';

const url = inject('workerUrl');
const D = 2000;
let video: Media;
beforeAll(async () => {
  video = await encodeMedia({ kind: 'video' });
});

const operator = { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` };
const api = (event: string, path: string, init: { method?: string; body?: unknown } = {}) =>
  fetch(`${url}/api/events/${event}/${path}`, {
    method: init.method ?? 'GET',
    headers: { ...operator, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
interface StateView {
  version: number;
  ended: boolean;
  endK: number | null;
  masks: { id: number; pipeline: string; fromK: number; toK: number | null }[];
}
const state = async (event: string, region: string) =>
  (await (await api(event, `state?region=${region}`)).json()) as StateView;
const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

/** Publish init and segments k-1, k of pipeline A into the given regions. */
async function publish(event: string, regions: string[], k: number) {
  // Created in these regions only (the first call decides): the others learn of it from their first init.
  await ensureEvent(url, event, { regions });
  for (const region of regions) {
    expect((await ingestPut(url, `${event}/A/v1/init.mp4?region=${region}`, video.init)).status).toBe(201);
    for (const kk of [k - 1, k])
      expect((await ingestPut(url, `${event}/A/v1/${kk}.m4s?region=${region}`, segmentFor(video, kk, D))).status).toBe(
        201,
      );
  }
}

describe('ingest into a named region', () => {
  it("?region=r2 stores in r2 only: r1 has nothing, and players are served r2's candidate", async () => {
    const event = randomEventId();
    const k = liveK(D) - 3;
    await publish(event, ['r2'], k);
    const r2 = await getBytes(`${url}/live/${event}/v1/${k}.m4s?pipeline=A&region=r2`, { headers: operator });
    expect(r2.res.status).toBe(200);
    expect(r2.res.headers.get('x-candidate')).toBe('pipeline=A; region=r2; defects=none');
    expect(Buffer.from(r2.bytes).equals(Buffer.from(segmentFor(video, k, D)))).toBe(true);
    expect((await fetch(`${url}/live/${event}/v1/init.mp4?pipeline=A&region=r2`, { headers: operator })).status).toBe(
      200,
    );
    // The home region (r1) never heard of the event; the edge finds the copy in r2.
    const played = await fetch(`${url}/live/${event}/v1/${k}.m4s`);
    expect(played.status).toBe(200);
    expect(played.headers.get('x-candidate')).toBe('pipeline=A; region=r2; defects=none');
    expect(played.headers.get('x-candidate-reason')).toBe('home-missing');
    expect((await api(event, 'state')).status).toBe(404);
    expect((await state(event, 'r2')).version).toBe(1);
  });

  it('rejects an unknown or malformed region with 400 naming the regions, and stores nothing anywhere', async () => {
    const event = randomEventId();
    for (const region of ['r9', 'R2!', '']) {
      const res = await ingestPut(url, `${event}/A/v1/init.mp4?region=${encodeURIComponent(region)}`, video.init, {
        create: false,
      });
      expect(res.status).toBe(400);
      const err = await errorCode(res);
      expect(err.code).toBe('BAD_QUERY');
      expect(err.message).toMatch(/region/);
      if (region === 'r9') expect(err.message).toContain('r1, r2');
    }
    for (const region of ['r1', 'r2']) expect((await api(event, `state?region=${region}`)).status).toBe(404);
    expect((await api(event, 'state?region=r9')).status).toBe(400);
  });
});

describe('operator controls reach every region', () => {
  it('a region that lags is reported; a mask keeps the home id everywhere; a bump names one version; end ends both', async () => {
    const event = randomEventId();
    const k = liveK(D) - 3;
    await publish(event, ['r1'], k);
    // r2 does not know the event yet: the mask lands in r1 only, and the answer says so.
    const early = await api(event, 'masks', { method: 'POST', body: { pipeline: 'B', fromK: k - 1, toK: k - 1 } });
    expect(early.status).toBe(201);
    expect(early.headers.get('x-regions-applied')).toBe('r1=ok, r2=EVENT_NOT_FOUND');
    await publish(event, ['r2'], k);
    // r1 numbers this mask 2; r2, numbering on its own, would call it 1.
    const masked = await api(event, 'masks', { method: 'POST', body: { pipeline: 'B', fromK: k, toK: k } });
    expect(masked.status).toBe(201);
    expect(masked.headers.get('x-regions-applied')).toBe('r1=ok, r2=ok');
    const mask = (await masked.json()) as { id: number };
    expect(mask.id).toBe(2);
    expect((await state(event, 'r2')).masks).toMatchObject([{ id: 2, pipeline: 'B', fromK: k, toK: k }]);
    expect((await api(event, `masks/${mask.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await state(event, 'r1')).masks.map((m) => m.id)).toEqual([1]);
    expect((await state(event, 'r2')).masks).toEqual([]);

    const bumped = (await (await api(event, 'version', { method: 'POST', body: {} })).json()) as { version: number };
    expect(bumped.version).toBe(2);
    for (const region of ['r1', 'r2']) expect((await state(event, region)).version).toBe(2);

    expect((await api(event, 'end', { method: 'POST', body: {} })).status).toBe(200);
    for (const region of ['r1', 'r2']) expect(await state(event, region)).toMatchObject({ ended: true, endK: k });
  });

  it('a control the home region refuses is asked of no other region', async () => {
    const event = randomEventId();
    const k = liveK(D) - 3;
    // Only r2 knows the event: the home region (r1) refuses, and r2 — which would accept — is not asked.
    await publish(event, ['r2'], k);
    const res = await api(event, 'masks', { method: 'POST', body: { pipeline: 'B', fromK: k, toK: k } });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-regions-applied')).toBeNull();
    expect((await state(event, 'r2')).masks).toEqual([]);
  });
});
