/**
 * The storage budget (issue 10): near `storageBudgetBytes` the oldest DVR segments are evicted
 * and an alert is raised, in the operator state and in the log; the live edge keeps working, and
 * the alert clears once the configured window alone fits.
 */
import { env, runDurableObjectAlarm } from 'cloudflare:test';
import { afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { defaultEventConfig } from '../contract/event-config.ts';
import { DEV_OPERATOR_TOKEN, getBytes, ingestPut, randomEventId } from '../test/ingest-client.ts';
import { loadMedia, liveK, type Media, segmentFor, withFiller } from '../test/media.ts';
import type { EventOrigin } from './event-origin.ts';
import { EVICT_AT_SHARE } from './storage-budget.ts';

const url = inject('workerUrl');
const { segmentDurationMs: D } = defaultEventConfig;
const BUDGET = 7_000_000;
let big: Media;
beforeAll(async () => {
  big = withFiller(await loadMedia({ kind: 'video' }), 10_000); // about 0.7 MB a segment
});
afterEach(() => {
  vi.restoreAllMocks();
});

const originOf = (event: string) =>
  env.EVENT_ORIGIN.get(env.EVENT_ORIGIN.idFromName(`${event}:r1`)) as DurableObjectStub<EventOrigin>;
const operator = { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` };
const patch = (event: string, body: unknown) =>
  fetch(`${url}/api/events/${event}/config`, {
    method: 'PATCH',
    headers: { ...operator, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

interface StorageView {
  bytes: number;
  budgetBytes: number;
  usedShare: number;
  dvrStartK: number;
  budgetFloorK: number | null;
  alert: { since: string; message: string } | null;
}
const stateOf = async (event: string) =>
  ((await (await fetch(`${url}/api/events/${event}/state`, { headers: operator })).json()) as { storage: StorageView })
    .storage;

describe('storage budget', () => {
  it('evicts the oldest DVR first near the budget, raises an alert, and keeps the live edge', async () => {
    const log = vi.spyOn(console, 'log');
    const event = randomEventId('budget');
    expect((await ingestPut(url, `${event}/A/v1/init.mp4`, big.init)).status).toBe(201);
    expect((await patch(event, { storageBudgetBytes: BUDGET })).status).toBe(200);
    const first = liveK(D) - 20;
    const sizes: number[] = [];
    for (let k = first; k < liveK(D); k++) {
      const segment = segmentFor(big, k, D);
      sizes.push(segment.byteLength);
      expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, segment)).status).toBe(201);
    }
    const newest = first + sizes.length - 1;
    const storage = await stateOf(event);
    // Never more than the eviction threshold plus the segment that crossed it.
    expect(storage.bytes).toBeLessThanOrEqual(BUDGET * EVICT_AT_SHARE + Math.max(...sizes));
    expect(storage.budgetBytes).toBe(BUDGET);
    expect(storage.budgetFloorK).toBeGreaterThan(first);
    expect(storage.dvrStartK).toBe(storage.budgetFloorK);
    expect(storage.alert?.message).toMatch(/storage budget was used: evicted every segment before \d+/);
    expect(log.mock.calls.some(([line]) => /storage budget alert/.test(String(line)))).toBe(true);
    const stats = (await (await fetch(`${url}/api/events/${event}/storage`, { headers: operator })).json()) as {
      oldestK: number;
      newestK: number;
      bytes: number;
      alert: unknown;
    };
    expect(stats).toMatchObject({ oldestK: storage.budgetFloorK, newestK: newest, bytes: storage.bytes });
    expect(stats.alert).toEqual(storage.alert);
    // What was evicted is gone for players and manifests; the live edge answers as always.
    const gone = await fetch(`${url}/live/${event}/v1/${first}.m4s`);
    expect(gone.status).toBe(410);
    expect(((await gone.json()) as { error: { message: string } }).error.message).toMatch(/storage budget/);
    const playlist = await (await fetch(`${url}/live/${event}/v1/index.m3u8`)).text();
    expect(playlist).toContain(`#EXT-X-MEDIA-SEQUENCE:${storage.budgetFloorK}`);
    expect((await getBytes(`${url}/live/${event}/v1/${newest}.m4s`)).res.status).toBe(200);
    // A late copy of an evicted K would only be evicted again: refused like any K before the window.
    expect((await ingestPut(url, `${event}/A/v1/${first}.m4s`, segmentFor(big, first, D))).status).toBe(400);

    // The configured window alone now fits (it starts after the budget's floor): the alert clears.
    expect((await patch(event, { dvrWindowSeconds: 10 })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    await runDurableObjectAlarm(originOf(event));
    const cleared = await stateOf(event);
    expect(cleared).toMatchObject({ alert: null, budgetFloorK: null });
    expect(log.mock.calls.some(([line]) => /storage budget alert cleared/.test(String(line)))).toBe(true);
  });

  it('never evicts the live edge: with nothing older to evict it keeps serving and says so', async () => {
    const event = randomEventId('budget');
    expect((await ingestPut(url, `${event}/A/v1/init.mp4`, big.init)).status).toBe(201);
    expect((await patch(event, { storageBudgetBytes: 1_000_000 })).status).toBe(200);
    const k = liveK(D) - 1;
    for (const kk of [k - 1, k])
      expect((await ingestPut(url, `${event}/A/v1/${kk}.m4s`, segmentFor(big, kk, D))).status).toBe(201);
    const storage = await stateOf(event);
    expect(storage.alert?.message).toMatch(/^nothing can be evicted/);
    expect(storage.budgetFloorK).toBeNull();
    for (const kk of [k - 1, k]) expect((await fetch(`${url}/live/${event}/v1/${kk}.m4s`)).status).toBe(200);
  });
});
