/**
 * Plausible segment numbers (issue 10): ingest accepts K from the start of the DVR window to
 * `maxSegmentsAhead` past the live edge. One PUT of a far-future K must change nothing: no row,
 * no pipeline health, no 410 for the segments a late pipeline is still producing.
 */
import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultEventConfig } from '../contract/event-config.ts';
import { DEV_OPERATOR_TOKEN, ingestPut, randomEventId } from '../test/ingest-client.ts';
import { loadMedia, liveK, type Media, segmentFor } from '../test/media.ts';
import type { EventOrigin } from './event-origin.ts';

const url = inject('workerUrl');
const { segmentDurationMs: D, dvrWindowSeconds, maxSegmentsAhead } = defaultEventConfig;
let video: Media;
beforeAll(async () => {
  video = await loadMedia({ kind: 'video' });
});

const originOf = (event: string) =>
  env.EVENT_ORIGIN.get(env.EVENT_ORIGIN.idFromName(`${event}:r1`)) as DurableObjectStub<EventOrigin>;
const operator = { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` };
const api = async (event: string, path: string, init: RequestInit = {}) =>
  (await fetch(`${url}/api/events/${event}/${path}`, { ...init, headers: { ...operator, ...init.headers } })).json();
const put = (event: string, k: number, pipeline = 'A') =>
  ingestPut(url, `${event}/${pipeline}/v1/${k}.m4s`, segmentFor(video, k, D));
const errorOf = async (res: Response) => ({
  status: res.status,
  ...((await res.json()) as { error: { code: string; message: string } }).error,
});

async function newEvent(pipelines = ['A']) {
  const event = randomEventId('k');
  for (const p of pipelines) expect((await ingestPut(url, `${event}/${p}/v1/init.mp4`, video.init)).status).toBe(201);
  return event;
}

describe('segment numbers accepted at ingest', () => {
  it(`accepts up to ${maxSegmentsAhead} segments past the live edge and refuses the next one, naming the range`, async () => {
    const event = await newEvent();
    const edge = liveK(D);
    expect((await put(event, edge + maxSegmentsAhead - 1)).status).toBe(201);
    // One more than the limit, plus one: a segment boundary passing before the origin checks must not make it plausible.
    const next = liveK(D) + maxSegmentsAhead + 2;
    const refused = await errorOf(await put(event, next));
    expect(refused).toMatchObject({ status: 400, code: 'SEGMENT_NUMBER_IMPLAUSIBLE' });
    expect(refused.message).toMatch(/segments past the live edge/);
    expect(refused.message).toMatch(/are accepted now/);
    expect(await api(event, 'storage')).toMatchObject({ candidates: 1 });
  });

  it('refuses a K before the DVR window', async () => {
    const event = await newEvent();
    const old = liveK(D) - (dvrWindowSeconds * 1000) / D - 2;
    const refused = await errorOf(await put(event, old));
    expect(refused).toMatchObject({ status: 400, code: 'SEGMENT_NUMBER_IMPLAUSIBLE' });
    expect(refused.message).toMatch(/before the DVR window/);
  });

  it('a far-future K changes nothing: no row, no pipeline health, late segments still awaited', async () => {
    const event = await newEvent(['A', 'B']);
    const k = liveK(D) - 2;
    for (const p of ['A', 'B']) expect((await put(event, k, p)).status).toBe(201);
    const before = (await api(event, 'state')) as { pipelines: unknown[]; header: string };
    // Pipeline B "jumps" a day ahead: were it stored, B would look alive for a day and past K+1.
    expect((await put(event, liveK(D) + 43_200, 'B')).status).toBe(400);
    const after = (await api(event, 'state')) as { pipelines: unknown[]; header: string };
    expect(after.pipelines).toEqual(before.pipelines);
    expect(after.header.replace(/t=\d+/, '')).toBe(before.header.replace(/t=\d+/, ''));
    expect(await api(event, 'storage')).toMatchObject({ candidates: 2, newestK: k });
    // K+1 is not gone: it is the live edge or just overdue, and both pipelines may still deliver it.
    const res = fetch(`${url}/live/${event}/v1/${k + 1}.m4s`);
    expect((await put(event, k + 1, 'A')).status).toBe(201);
    expect((await res).status).toBe(200);
  });

  it('is configurable per event', async () => {
    const event = await newEvent();
    const patch = await fetch(`${url}/api/events/${event}/config`, {
      method: 'PATCH',
      headers: { ...operator, 'content-type': 'application/json' },
      body: JSON.stringify({ maxSegmentsAhead: 0 }),
    });
    expect(patch.status).toBe(200);
    expect((await put(event, liveK(D) + 2)).status).toBe(400);
    expect((await put(event, liveK(D) - 1)).status).toBe(201);
  });

  it('eviction removes rows further ahead than ingest accepts (stored before the rule), and manifests never list them', async () => {
    const event = await newEvent();
    const k = liveK(D) - 2;
    expect((await put(event, k)).status).toBe(201);
    const far = liveK(D) + 10_000;
    await runInDurableObject(originOf(event), (_o, state) => {
      state.storage.sql.exec(
        `INSERT INTO candidates (track, k, pipeline, region, size, sha256, defects, received_at)
         VALUES ('v1', ?, 'A', 'r1', 10, 'x', '[]', ?)`,
        far,
        Date.now(),
      );
    });
    // Restarted, the object derives its segment index from the rows, the far one included.
    await evictDurableObject(originOf(event));
    expect(await runDurableObjectAlarm(originOf(event))).toBe(true);
    expect(await api(event, 'storage')).toMatchObject({ candidates: 1, newestK: k });
    expect(await (await fetch(`${url}/live/${event}/v1/index.m3u8`)).text()).not.toContain(`${far}.m4s`);
  });
});
