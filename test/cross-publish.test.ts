/**
 * Cross-publishing (docs/architecture.md, "Regions"): a real bridge publishes every segment to the
 * origins of two regions, r2 behind a fault proxy. Both regions store the same segments; while r2
 * hangs and then refuses, r1 keeps receiving every segment as promptly as before, r2's attempts
 * stay inside the 2 s segment budget, and r2 catches up when it recovers.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';
import { DEV_OPERATOR_TOKEN, randomEventId } from './ingest-client.ts';
import { bridgeStatus, startLiveEvent, waitFor, type LiveEvent } from './live-event.ts';

const url = inject('workerUrl');
const D = 2000;
const event = randomEventId('xpub');
let proxy: FaultProxy;
let live: LiveEvent;

beforeAll(async () => {
  proxy = await startFaultProxy(url);
  // r2 first: a publisher that served regions one after the other would make r1 wait behind r2.
  live = await startLiveEvent({
    workerUrl: url,
    event,
    ladder: 'tiny',
    size: '640x360',
    publishToFor: () => `r2=${proxy.url},r1`,
  });
  // Enough history in both regions for a baseline of several segments per track.
  await waitFor(
    async () => ((await bridgeStatus(live.bridgeUrl)).publish.regions.r2?.published ?? 0) >= 12,
    60_000,
    'segments in both regions',
  );
}, 90_000);

afterAll(async () => {
  await live?.stop();
  proxy?.close();
});

interface Candidate {
  status: number;
  bytes: Buffer;
  region: string | undefined;
  receivedAt: number;
}

async function candidate(region: string, track: string, k: number): Promise<Candidate> {
  const res = await fetch(`${url}/live/${event}/${track}/${k}.m4s?pipeline=A&region=${region}`, {
    headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` },
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  return {
    status: res.status,
    bytes,
    region: /region=([^;]+)/.exec(res.headers.get('x-candidate') ?? '')?.[1],
    receivedAt: Date.parse(res.headers.get('x-received-at') ?? ''),
  };
}

const tracks = async () => Object.keys((await bridgeStatus(live.bridgeUrl)).pipeline.run!.tracks);
const lastK = async (region: string) => (await bridgeStatus(live.bridgeUrl)).publish.regions[region].lastK ?? -1;
/** How long after its media ended a segment reached the origin of `region`. */
const lateness = async (region: string, track: string, k: number) => {
  const c = await candidate(region, track, k);
  expect(c.status, `${region} ${track}/${k}`).toBe(200);
  return c.receivedAt - (k + 1) * D;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe('cross-publishing to two regions', () => {
  it('stores every segment in both regions: the same bytes, each copy naming its region', async () => {
    // lastK counts every track; one back, every track has it.
    const k = Math.min(await lastK('r1'), await lastK('r2')) - 1;
    for (const track of await tracks()) {
      for (const kk of [k - 2, k - 1, k]) {
        const [r1, r2] = [await candidate('r1', track, kk), await candidate('r2', track, kk)];
        expect([r1.status, r2.status], `${track}/${kk}`).toEqual([200, 200]);
        expect([r1.region, r2.region]).toEqual(['r1', 'r2']);
        expect(r1.bytes.equals(r2.bytes), `${track}/${kk} identical in both regions`).toBe(true);
      }
    }
  });

  it('r2 hanging, then refusing, never delays r1; r2 gives up inside the budget and catches up after', async () => {
    const video = (await tracks()).find((t) => t.startsWith('v'))!;
    const before = await bridgeStatus(live.bridgeUrl);
    // lastK counts every track: the video track's newest may still be in flight, so look one back.
    const baseK = before.publish.regions.r1.lastK! - 1;
    const baseline = await Promise.all([baseK - 3, baseK - 2, baseK - 1, baseK].map((k) => lateness('r1', video, k)));

    proxy.outage = { region: 'r2', mode: 'hang' };
    await new Promise((r) => setTimeout(r, 7000));
    proxy.outage = { region: 'r2', mode: 'refuse' };
    await new Promise((r) => setTimeout(r, 5000));
    proxy.outage = undefined;
    const during = await bridgeStatus(live.bridgeUrl);
    const outageKs = Array.from({ length: during.publish.regions.r1.lastK! - 1 - baseK }, (_, i) => baseK + 1 + i);
    expect(outageKs.length).toBeGreaterThanOrEqual(4);

    // r1: every segment of the outage, as promptly as before it (a serial publisher would add ≥ 2 s each).
    const r1Late = await Promise.all(outageKs.map((k) => lateness('r1', video, k)));
    console.log(
      `cross-publish ${event}: r1 lateness before ${baseline.join('/')} ms, during r2 outage ${r1Late.join('/')} ms; r2 hung requests held ${proxy.outageHeldMs.join('/')} ms`,
    );
    expect(median(r1Late)).toBeLessThan(median(baseline) + 1000);
    expect(Math.max(...r1Late)).toBeLessThan(Math.max(...baseline) + 2000);

    // r2: hung PUTs were abandoned inside the 2 s budget, refusals were retried, the misses counted.
    expect(proxy.outageHits).toBeGreaterThan(outageKs.length);
    expect(proxy.outageHeldMs.length).toBeGreaterThan(0);
    expect(Math.max(...proxy.outageHeldMs)).toBeLessThanOrEqual(D + 500);
    expect(during.publish.regions.r2.failed).toBeGreaterThan(before.publish.regions.r2.failed);
    expect(during.publish.regions.r2.retried).toBeGreaterThan(before.publish.regions.r2.retried);
    expect(during.publish.regions.r1.failed).toBe(before.publish.regions.r1.failed);

    // r2 recovers on its own with the next segments.
    const resumeFrom = during.publish.regions.r1.lastK! + 1;
    await waitFor(async () => (await lastK('r2')) >= resumeFrom, 15_000, 'r2 to receive segments again');
    // lastK counts every track: the video copy of that K may land a moment after another track's.
    await waitFor(
      async () => (await candidate('r2', video, await lastK('r2'))).status === 200,
      10_000,
      'r2 to store video segments again',
    );
  });
});
