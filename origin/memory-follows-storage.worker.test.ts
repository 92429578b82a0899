/**
 * Memory follows storage: the origin mirrors its state in memory (version, end, pipeline health,
 * stored bytes, the segment index), and a write that fails must leave both as they were. Nothing
 * a client sends makes SQLite fail, so the failure is injected in SQLite itself: a trigger that
 * aborts every write to one table, the way a full disk or a storage error would.
 */
import { env, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultEventConfig } from '../contract/event-config.ts';
import { DEV_OPERATOR_TOKEN, ingestPut, randomEventId } from '../test/ingest-client.ts';
import { loadMedia, liveK, type Media, segmentFor, withFiller } from '../test/media.ts';
import type { EventOrigin } from './event-origin.ts';
import { unwrap } from './result.ts';

const url = inject('workerUrl');
const { segmentDurationMs: D } = defaultEventConfig;
let video: Media;
beforeAll(async () => {
  video = await loadMedia({ kind: 'video' });
});

const originOf = (event: string, region = 'r1') =>
  env.EVENT_ORIGIN.get(env.EVENT_ORIGIN.idFromName(`${event}:${region}`)) as DurableObjectStub<EventOrigin>;

/** Make every INSERT, UPDATE and DELETE on `table` fail inside SQLite, in every region's object; returns the undo. */
async function failWritesTo(event: string, table: string): Promise<() => Promise<void>> {
  const regions = ['r1', 'r2'];
  for (const region of regions)
    await runInDurableObject(originOf(event, region), (_o, state) => {
      for (const op of ['INSERT', 'UPDATE', 'DELETE'])
        state.storage.sql.exec(
          `CREATE TRIGGER IF NOT EXISTS fail_${table}_${op} BEFORE ${op} ON ${table}
           BEGIN SELECT RAISE(ABORT, 'injected storage failure'); END`,
        );
    });
  return async () => {
    for (const region of regions)
      await runInDurableObject(originOf(event, region), (_o, state) => {
        for (const op of ['INSERT', 'UPDATE', 'DELETE']) state.storage.sql.exec(`DROP TRIGGER fail_${table}_${op}`);
      });
  };
}

const operator = { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` };
const state = async (event: string) =>
  (await (await fetch(`${url}/api/events/${event}/state`, { headers: operator })).json()) as {
    version: number;
    ended: boolean;
    endK: number | null;
    pipelines: { pipeline: string; lastK: number; segments: number }[];
    storage: { bytes: number };
    header: string;
  };
/** The segments the origin lists for v1 now (straight from it: the edge may cache a playlist briefly). */
const listedUpTo = async (event: string) => unwrap(await originOf(event).manifestInput()).input.lastSegmentByTrack.v1;
const stored = (event: string, sqlText: string) =>
  runInDurableObject(originOf(event), (_o, s) => s.storage.sql.exec(sqlText).toArray());

async function newEvent() {
  const event = randomEventId('mem');
  const k = liveK(D) - 4;
  expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init)).status).toBe(201);
  expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, segmentFor(video, k, D))).status).toBe(201);
  return { event, k };
}

describe('a failed storage write changes neither storage nor memory', () => {
  it('version bump', async () => {
    const { event } = await newEvent();
    const heal = await failWritesTo(event, 'event_state');
    expect((await fetch(`${url}/api/events/${event}/version`, { method: 'POST', headers: operator })).status).toBe(500);
    expect((await state(event)).version).toBe(1);
    expect((await fetch(`${url}/live/${event}/v1/index.m3u8`)).headers.get('x-event-state')).toMatch(/^v=1,/);
    expect(await stored(event, 'SELECT version FROM event_state')).toEqual([]);
    await heal();
    expect((await fetch(`${url}/api/events/${event}/version`, { method: 'POST', headers: operator })).status).toBe(200);
    expect((await state(event)).version).toBe(2);
  });

  it('end of the event', async () => {
    const { event, k } = await newEvent();
    const heal = await failWritesTo(event, 'event_state');
    expect((await fetch(`${url}/api/events/${event}/end`, { method: 'POST', headers: operator })).status).toBe(500);
    expect(await state(event)).toMatchObject({ ended: false, endK: null });
    expect(unwrap(await originOf(event).manifestInput()).input.ended).toBe(false);
    // Segments after the "end" are still accepted: the end never happened.
    expect((await ingestPut(url, `${event}/A/v1/${k + 1}.m4s`, segmentFor(video, k + 1, D))).status).toBe(201);
    await heal();
    expect((await fetch(`${url}/api/events/${event}/end`, { method: 'POST', headers: operator })).status).toBe(200);
    expect(await state(event)).toMatchObject({ ended: true, endK: k + 1 });
  });

  it('a segment whose pipeline-health write fails: no candidate, no health change, not listed, not counted', async () => {
    const { event, k } = await newEvent();
    const before = await state(event);
    const heal = await failWritesTo(event, 'pipeline_health');
    const put = await ingestPut(url, `${event}/A/v1/${k + 1}.m4s`, segmentFor(video, k + 1, D));
    expect(put.status).toBe(500);
    const after = await state(event);
    expect(after.pipelines).toEqual(before.pipelines);
    expect(after.storage.bytes).toBe(before.storage.bytes);
    expect(after.header.replace(/t=\d+/, '')).toBe(before.header.replace(/t=\d+/, ''));
    expect(await stored(event, `SELECT k FROM candidates`)).toEqual([{ k }]);
    expect(await stored(event, `SELECT COUNT(*) AS n FROM segment_chunks WHERE k = ${k + 1}`)).toEqual([{ n: 0 }]);
    expect(await listedUpTo(event)).toBe(k);
    await heal();
    expect((await ingestPut(url, `${event}/A/v1/${k + 1}.m4s`, segmentFor(video, k + 1, D))).status).toBe(201);
    expect((await state(event)).pipelines[0]).toMatchObject({
      lastK: k + 1,
      segments: before.pipelines[0].segments + 1,
    });
    expect(await listedUpTo(event)).toBe(k + 1);
  });

  it('an eviction for the storage budget that fails: bytes, window and alert stay as they were', async () => {
    const event = randomEventId('mem');
    const k = liveK(D) - 4;
    const big = withFiller(video, 10_000); // about 0.7 MB a segment
    expect((await ingestPut(url, `${event}/A/v1/init.mp4`, big.init)).status).toBe(201);
    for (let kk = k; kk <= k + 2; kk++)
      expect((await ingestPut(url, `${event}/A/v1/${kk}.m4s`, segmentFor(big, kk, D))).status).toBe(201);
    const before = await state(event);
    const heal = await failWritesTo(event, 'storage_state');
    // A budget far below what is stored: the eviction runs, and its transaction fails.
    const patch = await fetch(`${url}/api/events/${event}/config`, {
      method: 'PATCH',
      headers: { ...operator, 'content-type': 'application/json' },
      body: JSON.stringify({ storageBudgetBytes: 1_000_000, liveEdgeSegments: 1 }),
    });
    expect(before.storage.bytes).toBeGreaterThan(900_000);
    expect(patch.status).toBe(500);
    const after = await state(event);
    expect(after.storage).toMatchObject({ bytes: before.storage.bytes, budgetFloorK: null, alert: null });
    expect(await stored(event, 'SELECT COUNT(*) AS n FROM candidates')).toEqual([{ n: 3 }]);
    expect(unwrap(await originOf(event).manifestInput()).input.firstSegment).toBe(k);
    await heal();
  });
});
