/**
 * Region failover on the real Worker in workerd (docs/edge-shield.md, "Four candidates, two
 * regions"): the home region r1's origin is made to fail with the operator fault switch
 * (edge/fault-routes.ts, local development only) while the event is published into both regions.
 * - error: segments, inits and manifests come from r2 at once (`home-error`), then `home-down`;
 * - hang: the first answers come from r2 after REGION_TIMEOUT_MS (`home-timeout`), the next at
 *   once (`home-down`): the region is remembered down;
 * - defective: segments come from r2 (`home-defective`) on every request (r1 answers, so it is
 *   never remembered down); inits and manifests have no defects and stay in r1;
 * - ingest and operator views keep working in the failing region;
 * - once the fault is cleared and REGION_DOWN_MS has passed, answers come from r1 again;
 * - low latency: parts, a blocking LL-HLS playlist reload and a chunked segment come from r2 too
 *   (edge/region-choice.ts), r1's deadline counting from the end of the part's hold.
 * Manifests carry no `x-candidate`; which region built one shows in its `x-event-state`: only r2
 * stores a copy from pipeline B, so only r2's state names B.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultEventConfig } from '../contract/event-config.ts';
import { EVENT_STATE_HEADER, parseEventState } from '../contract/event-state.ts';
import { INJECTED_DEFECT } from '../origin/fault-switch.ts';
import { DEV_OPERATOR_TOKEN, ingestPut, randomEventId } from '../test/ingest-client.ts';
import { liveK, loadMedia, type Media, partsFor, segmentFor } from '../test/media.ts';
import worker from './worker.ts';

const url = inject('workerUrl');
const { segmentDurationMs: D } = defaultEventConfig;
const REGION_TIMEOUT_MS = Number(env.REGION_TIMEOUT_MS);
const REGION_DOWN_MS = Number(env.REGION_DOWN_MS);
/** "At once": well under the region deadline a failing region would cost. */
const QUICK_MS = REGION_TIMEOUT_MS / 2;
const operator = { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let video: Media;
beforeAll(async () => {
  video = await loadMedia({ kind: 'video' });
});

const setFault = (event: string, region: string, mode: string, init: { headers?: Record<string, string> } = {}) =>
  fetch(`${url}/api/events/${event}/fault?region=${region}`, {
    method: 'PUT',
    headers: { ...operator, 'content-type': 'application/json', ...init.headers },
    body: JSON.stringify({ mode }),
  });

async function fault(event: string, region: string, mode: string) {
  const res = await setFault(event, region, mode);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as {
    event: string;
    region: string;
    mode: string;
    since: string;
    hanging: number;
    released: number;
  };
}

/**
 * A new event (so nothing of it is in the edge cache), published by pipeline A into r1 and r2:
 * init and segments k, k+1, k+2 (all past due). r2 also stores B's init and segment k, so r2's
 * x-event-state names pipeline B and r1's does not.
 */
async function newEvent(prefix: string): Promise<{ event: string; k: number }> {
  const event = randomEventId(prefix);
  const k = liveK(D) - 4;
  for (const region of ['r1', 'r2']) {
    expect((await ingestPut(url, `${event}/A/v1/init.mp4?region=${region}`, video.init)).status).toBe(201);
    for (const kk of [k, k + 1, k + 2])
      expect((await ingestPut(url, `${event}/A/v1/${kk}.m4s?region=${region}`, segmentFor(video, kk, D))).status).toBe(
        201,
      );
  }
  expect((await ingestPut(url, `${event}/B/v1/init.mp4?region=r2`, video.init)).status).toBe(201);
  expect((await ingestPut(url, `${event}/B/v1/${k}.m4s?region=r2`, segmentFor(video, k, D))).status).toBe(201);
  return { event, k };
}

interface Answer {
  path: string;
  status: number;
  ms: number;
  candidate: string | null;
  reason: string | null;
  /** Which region built it, from x-event-state: r2 alone knows pipeline B. */
  stateFrom: 'r1' | 'r2' | undefined;
  cache: string | null;
}

async function play(path: string): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${url}${path}`);
  await res.arrayBuffer();
  const state = parseEventState(res.headers.get(EVENT_STATE_HEADER));
  return {
    path,
    status: res.status,
    ms: Math.round(performance.now() - started),
    candidate: res.headers.get('x-candidate'),
    reason: res.headers.get('x-candidate-reason'),
    stateFrom: state ? (state.pipelines.some((p) => p.pipeline === 'B') ? 'r2' : 'r1') : undefined,
    cache: res.headers.get('x-cache'),
  };
}

const paths = (event: string, k: number) => ({
  segment: (kk = k) => `/live/${event}/v1/${kk}.m4s`,
  init: `/live/${event}/v1/init.mp4`,
  mpd: `/live/${event}/index.mpd`,
  playlist: `/live/${event}/v1/index.m3u8`,
  multivariant: `/live/${event}/index.m3u8`,
});

async function regionsDown(event: string): Promise<Record<string, string>> {
  const res = await fetch(`${url}/api/events/${event}/state`, { headers: operator });
  expect(res.status, 'operator views keep working in the failing region').toBe(200);
  return ((await res.json()) as { edge: { shield: { regionsDown: Record<string, string> } } }).edge.shield.regionsDown;
}

/** Every answer came from r2's origin with this reason (segments and inits name r2's candidate). */
function expectFromR2(answers: Answer[], reason: string) {
  for (const a of answers) {
    expect(a.status, a.path).toBe(200);
    expect(a.cache, a.path).toBe('origin');
    if (a.path.endsWith('.m4s') || a.path.endsWith('.mp4')) {
      expect(a.candidate, a.path).toBe('pipeline=A; region=r2; defects=none');
      expect(a.reason, a.path).toBe(reason);
    }
    expect(a.stateFrom, `${a.path}: built by r2's origin`).toBe('r2');
  }
}

/** After the fault is cleared: r1 is remembered down until REGION_DOWN_MS after it failed; then r1 answers again. */
async function expectRecovery(event: string, k: number) {
  const p = paths(event, k);
  const until = Date.parse((await regionsDown(event)).r1);
  expect(until, 'r1 remembered down').toBeGreaterThan(Date.now());
  const stillDown = await play(p.segment(k + 2));
  expect(stillDown.candidate).toBe('pipeline=A; region=r2; defects=none');
  expect(stillDown.reason).toBe('home-down');
  expect(stillDown.ms).toBeLessThan(QUICK_MS);
  await sleep(until - Date.now() + 50);
  // A segment nothing of this isolate has asked for yet, stored in both regions.
  for (const region of ['r1', 'r2'])
    expect(
      (await ingestPut(url, `${event}/A/v1/${k + 3}.m4s?region=${region}`, segmentFor(video, k + 3, D))).status,
    ).toBeLessThan(300);
  const back = await play(p.segment(k + 3));
  expect(back).toMatchObject({ status: 200, candidate: 'pipeline=A; region=r1; defects=none', reason: 'home' });
  expect(back.ms).toBeLessThan(QUICK_MS);
  const mpd = await play(p.mpd);
  expect(mpd.stateFrom, 'manifests from r1 again').toBe('r1');
  expect(await regionsDown(event)).toEqual({});
}

describe('fault injection is local development only', () => {
  it('without ALLOW_FAULT_INJECTION the route does not exist: 404 ROUTE_NOT_FOUND before any credential check', async () => {
    for (const value of [undefined, 'false', '1']) {
      for (const headers of [{}, operator]) {
        const request = new Request(`${url}/api/events/e1/fault?region=r1`, {
          method: 'PUT',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ mode: 'error' }),
        });
        const ctx = createExecutionContext();
        const res = await worker.fetch(request, { ...env, ALLOW_FAULT_INJECTION: value } as Env, ctx);
        await waitOnExecutionContext(ctx);
        expect(res.status, `ALLOW_FAULT_INJECTION=${value}`).toBe(404);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ROUTE_NOT_FOUND');
      }
    }
  });

  it('with it (.dev.vars): operator:write only, a validated body, a known region', async () => {
    const event = randomEventId('fault');
    expect((await setFault(event, 'r1', 'error', { headers: { authorization: '' } })).status).toBe(401);
    expect(
      (await setFault(event, 'r1', 'error', { headers: { authorization: 'Bearer dev-operator-read-token' } })).status,
    ).toBe(403);
    const bad = await setFault(event, 'r1', 'explode');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'BAD_BODY',
      message: expect.stringContaining('mode'),
    });
    expect((await setFault(event, 'r9', 'error')).status).toBe(400);
    expect(await fault(event, 'r2', 'none')).toMatchObject({ event, region: 'r2', mode: 'none', hanging: 0 });
  });
});

describe('r1 made to fail: players are answered from r2', () => {
  it('defective: every segment from r2 (home-defective), never remembered down; inits and manifests stay in r1', async () => {
    const { event, k } = await newEvent('defective');
    const p = paths(event, k);
    await fault(event, 'r1', 'defective');
    // An operator candidate fetch shows what r1 really stores: clean (the fault is in what it serves).
    const stored = await fetch(`${url}${p.segment()}?pipeline=A&region=r1`, { headers: operator });
    expect(stored.headers.get('x-candidate')).toBe('pipeline=A; region=r1; defects=none');
    for (const kk of [k, k + 1]) {
      const a = await play(p.segment(kk));
      expect(a).toMatchObject({
        status: 200,
        candidate: 'pipeline=A; region=r2; defects=none',
        reason: 'home-defective',
      });
      expect(a.ms).toBeLessThan(QUICK_MS);
    }
    expect(await play(p.init)).toMatchObject({
      status: 200,
      candidate: 'pipeline=A; region=r1; defects=none',
      reason: 'home',
    });
    expect((await play(p.mpd)).stateFrom).toBe('r1');
    expect(await regionsDown(event)).toEqual({});
    // With r2 defective too, the home copy is the best there is: served with its defect, never kept.
    await fault(event, 'r2', 'defective');
    const both = await fetch(`${url}${p.segment(k + 2)}`);
    expect(both.headers.get('x-candidate')).toBe(`pipeline=A; region=r1; defects=${INJECTED_DEFECT}`);
    expect(both.headers.get('x-candidate-reason')).toBe('home-best');
    expect(both.headers.get('cache-control')).toBe('no-store');
    await fault(event, 'r2', 'none');
    expect((await fault(event, 'r1', 'none')).mode).toBe('none');
    expect(await play(p.segment(k + 2))).toMatchObject({
      status: 200,
      candidate: 'pipeline=A; region=r1; defects=none',
      reason: 'home',
    });
  });

  it(
    'hang: the first answers after REGION_TIMEOUT_MS (home-timeout), the next at once (home-down); back to r1 after REGION_DOWN_MS',
    async () => {
      const { event, k } = await newEvent('hang');
      const p = paths(event, k);
      await fault(event, 'r1', 'hang');
      const first = await Promise.all([play(p.segment()), play(p.init), play(p.mpd), play(p.playlist)]);
      expectFromR2(first, 'home-timeout');
      for (const a of first) {
        expect(a.ms, `${a.path} waited for r1's deadline`).toBeGreaterThanOrEqual(REGION_TIMEOUT_MS - 20);
        expect(a.ms, `${a.path} not much longer`).toBeLessThan(REGION_TIMEOUT_MS + 1000);
      }
      const next = await Promise.all([play(p.segment(k + 1)), play(p.multivariant)]);
      expectFromR2(next, 'home-down');
      for (const a of next) expect(a.ms, a.path).toBeLessThan(QUICK_MS);
      expect(Object.keys(await regionsDown(event))).toEqual(['r1']);
      // Ingest into the hanging region still works (the pipelines keep publishing to both).
      const put = performance.now();
      expect((await ingestPut(url, `${event}/A/v1/${k + 3}.m4s?region=r1`, segmentFor(video, k + 3, D))).status).toBe(
        201,
      );
      expect(performance.now() - put).toBeLessThan(QUICK_MS);
      const cleared = await fault(event, 'r1', 'none');
      console.log(
        `hang: first answers ${first.map((a) => `${a.path.split('/').pop()} ${a.ms} ms`).join(', ')}; next ${next.map((a) => `${a.ms} ms`).join(', ')}; ${cleared.released} held requests released`,
      );
      await expectRecovery(event, k);
    },
    REGION_DOWN_MS + 20_000,
  );

  it(
    'error: the first answers at once (home-error), the next too (home-down); back to r1 after REGION_DOWN_MS',
    async () => {
      const { event, k } = await newEvent('error');
      const p = paths(event, k);
      expect(await regionsDown(event), 'r1 recovered from the previous test').toEqual({});
      await fault(event, 'r1', 'error');
      const first = await Promise.all([play(p.segment()), play(p.init), play(p.mpd), play(p.playlist)]);
      expectFromR2(first, 'home-error');
      for (const a of first) expect(a.ms, a.path).toBeLessThan(QUICK_MS);
      const next = await Promise.all([play(p.segment(k + 1)), play(p.multivariant)]);
      expectFromR2(next, 'home-down');
      for (const a of next) expect(a.ms, a.path).toBeLessThan(QUICK_MS);
      expect((await ingestPut(url, `${event}/A/v1/${k + 3}.m4s?region=r1`, segmentFor(video, k + 3, D))).status).toBe(
        201,
      );
      // An operator candidate fetch is no player request: it still reads r1.
      const candidate = await fetch(`${url}${p.segment()}?pipeline=A&region=r1`, { headers: operator });
      expect(candidate.status).toBe(200);
      await fault(event, 'r1', 'none');
      console.log(
        `error: first answers ${first.map((a) => `${a.path.split('/').pop()} ${a.ms} ms`).join(', ')}; next ${next.map((a) => `${a.ms} ms`).join(', ')}`,
      );
      await expectRecovery(event, k);
    },
    REGION_DOWN_MS + 20_000,
  );
});

describe('low latency: r1 made to fail, parts come from r2', () => {
  it(
    'error: a part (home-error), a blocking LL-HLS reload and a chunked segment (home-down) from r2; r1 again after REGION_DOWN_MS',
    async () => {
      const event = randomEventId('ll-error');
      // K is the segment being made now: parts 0 and 1 are out, in both regions.
      const k = Math.floor(Date.now() / D);
      const parts = partsFor(video, k, D, 4);
      const putBoth = async (path: string, bytes: Uint8Array) => {
        for (const region of ['r1', 'r2'])
          expect((await ingestPut(url, `${event}/A/v1/${path}?region=${region}`, bytes)).status).toBe(201);
      };
      await putBoth('init.mp4', video.init);
      for (const kk of [k - 2, k - 1]) await putBoth(`${kk}.m4s`, segmentFor(video, kk, D));
      for (const n of [0, 1]) await putBoth(`${k}.${n}.m4s`, parts[n]);
      expect(await regionsDown(event), 'r1 recovered from the previous test').toEqual({});
      await fault(event, 'r1', 'error');

      const partRes = await fetch(`${url}/live/${event}/v1/${k}.1.m4s`);
      expect(partRes.status).toBe(200);
      expect(Buffer.from(await partRes.arrayBuffer()).equals(Buffer.from(parts[1]))).toBe(true);
      expect(partRes.headers.get('x-candidate')).toBe('pipeline=A; region=r2; defects=none');
      expect(partRes.headers.get('x-candidate-reason')).toBe('home-error');

      // A blocking reload for part 2, which lands while it waits (in both regions, as a packager publishes).
      const reload = fetch(`${url}/live/${event}/v1/index.m3u8?latency=low&_HLS_msn=${k}&_HLS_part=2`);
      await sleep(200);
      await putBoth(`${k}.2.m4s`, parts[2]);
      const playlist = await reload;
      expect(playlist.status).toBe(200);
      const text = await playlist.text();
      expect(text).toContain(`URI="${k}.2.m4s"`);
      expect(text).toContain(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${k}.3.m4s"`);

      // K while it is still being written, as an LL-DASH player asks for it: r2's stream.
      const chunked = await fetch(`${url}/live/${event}/v1/${k}.m4s?latency=low`);
      expect(chunked.status).toBe(200);
      expect(chunked.headers.get('x-cache')).toBe('stream');
      expect(chunked.headers.get('x-candidate')).toBe('pipeline=A; region=r2; defects=none');
      expect(chunked.headers.get('x-candidate-reason')).toBe('home-down');
      await putBoth(`${k}.3.m4s`, parts[3]);
      const streamed = Buffer.from(await chunked.arrayBuffer());
      expect(streamed.equals(Buffer.concat(parts.map((p) => Buffer.from(p))))).toBe(true);
      expect(Object.keys(await regionsDown(event))).toEqual(['r1']);

      // Cleared: r1 answers parts again once REGION_DOWN_MS has passed.
      await fault(event, 'r1', 'none');
      await sleep(Date.parse((await regionsDown(event)).r1) - Date.now() + 50);
      const k2 = Math.floor(Date.now() / D);
      const later = partsFor(video, k2, D, 4);
      await putBoth(`${k2}.0.m4s`, later[0]);
      const back = await fetch(`${url}/live/${event}/v1/${k2}.0.m4s`);
      expect(back.status).toBe(200);
      expect(back.headers.get('x-candidate')).toBe('pipeline=A; region=r1; defects=none');
      expect(back.headers.get('x-candidate-reason')).toBe('home');
      expect(await regionsDown(event)).toEqual({});
    },
    REGION_DOWN_MS + 20_000,
  );
});
