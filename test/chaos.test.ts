/**
 * Chaos (DESIGN §5, issue 5): two real pipelines for one event. Pipeline A's bridge is killed at
 * a random moment and restarted a few seconds later; pipeline B, through a fault-injecting proxy,
 * publishes some truncated segments, some with a wrong tfdt, and skips some — never while A is
 * down, so a valid candidate always exists. For at least 60 s:
 * - every segment the edge serves (to a checker and to both players) is a valid candidate
 *   whenever one exists, judged independently (mp4box) and by comparing bytes with each
 *   pipeline's stored candidate (operator candidate fetch);
 * - Chromium plays with dash.js and with hls.js at the same time without error or a stall over 1 s;
 * - x-event-state reports A down during its outage.
 */
import { createHash } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultEventConfig } from '../contract/event-config.ts';
import { parseEventState } from '../contract/event-state.ts';
import { startChromium } from './browser.ts';
import { startFaultProxy, type Fault, type FaultProxy } from './fault-proxy.ts';
import { DEV_OPERATOR_TOKEN } from './ingest-client.ts';
import { startLiveEvent, waitFor, type LiveEvent } from './live-event.ts';
import { parseWithMp4box } from './mp4box-inspect.ts';

const workerUrl = inject('workerUrl');
const { segmentDurationMs: D, pipelineDelayMs } = defaultEventConfig;
const event = `chaos-${Date.now().toString(36)}`;
const base = `${workerUrl}/live/${event}`;
const operator = { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` };
const OBSERVE_MS = 64_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const random = (lo: number, hi: number) => lo + Math.random() * (hi - lo);

let live: LiveEvent;
let proxy: FaultProxy;
let chromium: ReturnType<typeof startChromium> | undefined;
let browser: Browser;
let tracks: string[] = [];
const inits = new Map<string, Uint8Array>();

/** B's faults are allowed only for K >= this (and while `faultsOn`). */
let faultsOn = false;
let faultableFromK = Number.MAX_SAFE_INTEGER;

/**
 * Deterministic per (track, K): three K in five get one of the three faults, rotating, with a
 * different rotation per track, so every kind happens within a few segments. Besides the phase
 * guard around A's outage, a fault is only injected once A's clean copy of that very segment is
 * stored (waiting up to 2.5 s for it): on an overloaded machine A can miss a segment on its own,
 * and the claim under test is about what the origin serves when a valid candidate exists.
 */
async function decide(track: string, k: number): Promise<Fault | undefined> {
  if (!faultsOn || k < faultableFromK) return undefined;
  const kinds: (Fault | undefined)[] = ['truncate', 'tfdt', 'skip', undefined, undefined];
  const fault = kinds[(k + Math.max(0, tracks.indexOf(track))) % kinds.length];
  if (!fault) return undefined;
  const deadline = Date.now() + 2500;
  while (Date.now() < deadline) {
    const a = await fetch(`${base}/${track}/${k}.m4s?pipeline=A`, { method: 'HEAD', headers: operator });
    if (a.ok) return a.headers.get('x-candidate')?.endsWith('defects=none') ? fault : undefined;
    await sleep(200);
  }
  return undefined;
}

/** Independent verdict on a segment: parses, tfdt where K puts it, not short, video starts on a sync sample. */
function isValid(track: string, k: number, bytes: Uint8Array | undefined): boolean {
  if (!bytes) return false;
  try {
    const p = parseWithMp4box(inits.get(track)!, bytes);
    const frame = p.duration / Math.max(1, p.sampleCount);
    const start = (k * D * p.timescale) / 1000;
    const video = track.startsWith('v');
    return (
      p.sampleCount > 0 &&
      p.baseMediaDecodeTime >= start &&
      p.baseMediaDecodeTime < start + frame &&
      p.duration >= (D * p.timescale) / 1000 - frame &&
      (!video || p.firstIsSync)
    );
  } catch {
    return false;
  }
}

async function get(url: string, headers?: Record<string, string>) {
  const res = await fetch(url, { headers });
  const at = Date.now();
  const receivedAt = Date.parse(res.headers.get('x-received-at') ?? '');
  return {
    status: res.status,
    at,
    receivedAt,
    candidate: res.headers.get('x-candidate') ?? '',
    bytes: res.ok ? new Uint8Array(await res.arrayBuffer()) : undefined,
  };
}

interface Served {
  who: string;
  track: string;
  k: number;
  status: number;
  /** When the answer arrived (ms since the epoch). */
  at: number;
  candidate: string;
  sha?: string;
}
const served: Served[] = [];
/** Per `${track}/${k}`: the valid stored candidates, hash → when the origin stored it (empty: none valid). */
const validCandidates = new Map<string, Map<string, number>>();
const candidateNotes = new Map<string, string>();
const statusLog: { at: number; a: string | undefined }[] = [];

/** Check every K from `fromK` to `lastK` once it has settled: what the edge serves and both stored candidates. */
async function checkDueSegments(fromK: number, lastK: number): Promise<void> {
  let next = fromK;
  while (next <= lastK) {
    const settled = Math.min(lastK, Math.floor((Date.now() - pipelineDelayMs - 2 * D) / D) - 1);
    for (; next <= settled; next++) {
      for (const track of tracks) {
        const [edge, a, b] = await Promise.all([
          get(`${base}/${track}/${next}.m4s`),
          get(`${base}/${track}/${next}.m4s?pipeline=A`, operator),
          get(`${base}/${track}/${next}.m4s?pipeline=B`, operator),
        ]);
        const valid = new Map(
          [a, b].filter((c) => isValid(track, next, c.bytes)).map((c) => [sha(c.bytes!), c.receivedAt] as const),
        );
        validCandidates.set(`${track}/${next}`, valid);
        const stored = (c: typeof a) =>
          c.status === 200
            ? `${c.candidate}; stored ${new Date(c.receivedAt).toISOString().slice(11, 23)}`
            : String(c.status);
        candidateNotes.set(
          `${track}/${next}`,
          `A ${stored(a)} | B ${stored(b)} | fault ${proxy.faults.get(`${track}/${next}`) ?? 'none'}`,
        );
        served.push({
          who: 'checker',
          track,
          k: next,
          status: edge.status,
          at: edge.at,
          candidate: edge.candidate,
          sha: edge.bytes && sha(edge.bytes),
        });
        if (!isValid(track, next, edge.bytes) && edge.bytes)
          served[served.length - 1].sha = `invalid:${sha(edge.bytes)}`;
      }
    }
    await sleep(500);
  }
}

async function watchState(untilMs: number): Promise<void> {
  while (Date.now() < untilMs) {
    const res = await fetch(`${base}/index.m3u8`);
    statusLog.push({
      at: Date.now(),
      a: parseEventState(res.headers.get('x-event-state'))?.pipelines.find((p) => p.pipeline === 'A')?.status,
    });
    await sleep(500);
  }
}

async function openPlayer(kind: 'dash' | 'hls'): Promise<{ page: Page; pageErrors: string[] }> {
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('response', async (res) => {
    // The players add CMCD in the query (docs/cmcd.md).
    const m = new RegExp(`/live/${event}/([^/]+)/(\\d+)\\.m4s(?:\\?|$)`).exec(res.url());
    if (!m) return;
    // When the answer reached the browser, by the browser's own timing (same machine clock).
    const timing = res.request().timing();
    const entry: Served = {
      who: kind,
      track: m[1],
      k: Number(m[2]),
      status: res.status(),
      at: timing.startTime + Math.max(0, timing.responseStart),
      candidate: res.headers()['x-candidate'] ?? '',
    };
    served.push(entry);
    if (res.status() === 200) entry.sha = sha(await res.body().catch(() => Buffer.alloc(0)));
  });
  await page.goto(`${workerUrl}/?event=${event}&player=${kind}`);
  // Seeks (a player jumping over a gap or back to the live edge) are not stalls; record them.
  await page.evaluate(() => {
    const video = document.querySelector('video')!;
    const seeks: { at: number; from: number; to: number }[] = ((window as any).__seeks = []);
    let last = 0;
    video.addEventListener('timeupdate', () => (last = video.seeking ? last : video.currentTime));
    video.addEventListener('seeking', () => seeks.push({ at: Date.now(), from: last, to: video.currentTime }));
    // Every 2 s: where the playhead is against the wall clock, and why it might not move.
    const samples: string[] = ((window as any).__samples = []);
    setInterval(() => {
      const b = video.buffered;
      const ahead = b.length ? (b.end(b.length - 1) - video.currentTime).toFixed(1) : '-';
      samples.push(
        `${new Date().toISOString().slice(14, 19)} t=${video.currentTime.toFixed(1)} ahead=${ahead} rs=${video.readyState} rate=${video.playbackRate} ${video.paused ? 'paused' : ''}${video.seeking ? 'seeking' : ''} ranges=${b.length}`,
      );
    }, 2000);
  });
  return { page, pageErrors };
}

const snapshot = (page: Page) =>
  page.evaluate(() => {
    const p = (window as any).__player;
    return {
      currentTime: document.querySelector('video')!.currentTime,
      errors: [...(p?.errors ?? [])],
      warnings: [...(p?.warnings ?? [])] as { at: number; code: string; message: string }[],
      seeks: [...((window as any).__seeks ?? [])] as { at: number; from: number; to: number }[],
      latency: p?.latency?.() as number | null,
      samples: [...((window as any).__samples ?? [])] as string[],
      stalls: [...(p?.stalls ?? [])] as { start: number; end: number | null }[],
    };
  });

beforeAll(async () => {
  chromium = startChromium();
  proxy = await startFaultProxy(workerUrl);
  proxy.decide = decide;
  live = await startLiveEvent({
    workerUrl,
    event,
    pipelines: ['A', 'B'],
    staggerMs: 1500,
    ladder: 'tiny',
    size: '640x360',
    ingestUrlFor: (p) => (p === 'B' ? proxy.url : workerUrl),
  });
  // Both pipelines steady: three segments from each on the newest K.
  await waitFor(
    async () => {
      const s = (await (await fetch(`${workerUrl}/api/events/${event}/state`, { headers: operator })).json()) as {
        pipelines?: { pipeline: string; segments: number }[];
      };
      return ['A', 'B'].every((p) => (s.pipelines?.find((x) => x.pipeline === p)?.segments ?? 0) >= 12);
    },
    60_000,
    'both pipelines publishing',
  ).catch((err) => {
    throw new Error(`${(err as Error).message}\n${live.output().slice(-3000)}`);
  });
  const mvp = await (await fetch(`${base}/index.m3u8`)).text();
  tracks = [...new Set([...mvp.matchAll(/([a-z0-9_-]+)\/index\.m3u8/g)].map((m) => m[1]))];
  for (const t of tracks) {
    const [a, b] = await Promise.all(
      ['A', 'B'].map(
        async (p) =>
          new Uint8Array(
            await (await fetch(`${base}/${t}/init.mp4?pipeline=${p}`, { headers: operator })).arrayBuffer(),
          ),
      ),
    );
    expect(Buffer.compare(a, b), `${t}: A and B inits are identical, so candidates are interchangeable`).toBe(0);
    inits.set(t, a);
  }
  browser = await chromium.get();
}, 120_000);

afterAll(async () => {
  await chromium?.close();
  await live?.stop();
  proxy?.close();
});

describe('chaos: A killed and restarted, B truncating, mis-stamping and skipping', () => {
  it(`serves a valid candidate whenever one exists, and both players play through for ${OBSERVE_MS / 1000} s`, async () => {
    const players = await Promise.all([openPlayer('dash'), openPlayer('hls')]);
    await Promise.all(
      players.map(({ page }) =>
        page.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 0, undefined, {
          timeout: 30_000,
        }),
      ),
    );
    const startedAt = Date.now();
    const start = await Promise.all(players.map(({ page }) => snapshot(page)));
    const untilMs = startedAt + OBSERVE_MS;
    const firstK = Math.floor((startedAt - pipelineDelayMs) / D) - 1;
    const lastK = Math.floor((untilMs - pipelineDelayMs) / D) - 1;
    const checking = checkDueSegments(firstK, lastK);
    const watching = watchState(untilMs);

    // Phase 1: B misbehaves while A is healthy.
    faultableFromK = firstK;
    faultsOn = true;
    await sleep(random(12_000, 16_000));
    // Phase 2: B clean from here on for every K A may miss; kill A at a random moment once every
    // K B already faulted has A's copy (A publishes about when B does), restart it a few s later.
    faultsOn = false;
    await sleep(4000 + random(0, D));
    live.killBridge('A');
    const killedAt = Date.now();
    await sleep(random(4000, 7000));
    await live.startBridge('A').catch((err) => {
      throw new Error(`${(err as Error).message}\n${live.output().slice(-4000)}`);
    });
    const restartedAt = Date.now();
    // Phase 3: A steady again (two new segments), then B's faults resume on the K after A's newest.
    let resumeK = 0;
    await waitFor(
      async () => {
        const s = (await (await fetch(`${workerUrl}/api/events/${event}/state`, { headers: operator })).json()) as {
          pipelines: { pipeline: string; lastK: number; status: string }[];
        };
        const a = s.pipelines.find((p) => p.pipeline === 'A')!;
        resumeK ||= a.lastK * D > killedAt ? a.lastK : 0;
        return resumeK > 0 && a.lastK >= resumeK + 2;
      },
      30_000,
      'A to publish again after its restart',
    ).catch(async (err) => {
      const state = await (await fetch(`${workerUrl}/api/events/${event}/state`, { headers: operator })).text();
      throw new Error(`${(err as Error).message}\nstate: ${state}\n${live.output().slice(-4000)}`);
    });
    const s = (await (await fetch(`${workerUrl}/api/events/${event}/state`, { headers: operator })).json()) as {
      pipelines: { pipeline: string; lastK: number }[];
    };
    faultableFromK = s.pipelines.find((p) => p.pipeline === 'A')!.lastK + 1;
    faultsOn = true;
    while (Date.now() < untilMs) await sleep(500);
    faultsOn = false;

    const end = await Promise.all(players.map(({ page }) => snapshot(page)));
    const watched = (Date.now() - startedAt) / 1000;
    await watching;
    await checking;

    const whoCounts = Object.fromEntries(
      ['checker', 'dash', 'hls'].map((w) => [w, served.filter((x) => x.who === w).length]),
    );
    console.log(
      `served by requester: ${JSON.stringify(whoCounts)}; A status over time: ${statusLog.map((x) => x.a?.[0] ?? '-').join('')}`,
    );
    // ---- the faults really happened ----
    const kinds = [...proxy.faults.values()];
    const count = (f: Fault) => kinds.filter((x) => x === f).length;
    console.log(
      `chaos ${event}: B faults truncate=${count('truncate')} tfdt=${count('tfdt')} skip=${count('skip')}; A killed ${new Date(killedAt).toISOString()}, restarted after ${((restartedAt - killedAt) / 1000).toFixed(1)} s; watched ${watched.toFixed(1)} s; ${served.length} segment responses`,
    );
    // ---- every served segment is a valid candidate whenever one exists ----
    const noValid = [...validCandidates]
      .filter(([, v]) => v.size === 0)
      .map(([key]) => `${key}: ${candidateNotes.get(key)}`);
    expect(noValid, 'segments with no valid candidate at all (the test must not cause these)').toEqual([]);
    // A valid candidate "exists" for an answer once the origin had stored it before answering
    // (100 ms allowance for the answer's way back): then the answer must be exactly such a copy.
    const bad = served.filter((s) => {
      const valid = validCandidates.get(`${s.track}/${s.k}`);
      if (!valid || valid.size === 0) return false; // not checked, or nothing valid to serve
      const existed = Math.min(...valid.values()) < s.at - 100;
      const good = s.status === 200 && s.candidate.endsWith('defects=none') && s.sha !== undefined && valid.has(s.sha);
      // Before any valid copy existed, a 200 may only be a defective copy flagged as such.
      return existed
        ? !good
        : s.status === 200 && s.candidate.endsWith('defects=none') && !(s.sha !== undefined && valid.has(s.sha));
    });
    expect(
      bad.map(
        (s) =>
          `${s.who} ${s.track}/${s.k} at ${new Date(s.at).toISOString().slice(11, 23)}: ${s.status} ${s.candidate} (${candidateNotes.get(`${s.track}/${s.k}`)})`,
      ),
      'served segments that are not a valid candidate',
    ).toEqual([]);
    const early = served.filter(
      (s) => s.status !== 200 && s.who !== 'checker' && (validCandidates.get(`${s.track}/${s.k}`)?.size ?? 0) > 0,
    );
    if (early.length)
      console.log(
        `answered before any valid copy was stored (allowed, listed for the record): ${early.map((s) => `${s.who} ${s.track}/${s.k} ${s.status}`).join(', ')}`,
      );
    const byPlayer = (who: string) =>
      served.filter((s) => s.who === who && validCandidates.has(`${s.track}/${s.k}`)).length;
    expect(byPlayer('checker')).toBe((lastK - firstK + 1) * tracks.length);
    expect(byPlayer('dash')).toBeGreaterThan(20);
    expect(byPlayer('hls')).toBeGreaterThan(20);
    // The edge really did switch: some K came from B (A's outage), most from A.
    expect(served.some((s) => s.who === 'checker' && s.candidate.startsWith('pipeline=B'))).toBe(true);

    expect(count('truncate')).toBeGreaterThan(0);
    expect(count('tfdt')).toBeGreaterThan(0);
    expect(count('skip')).toBeGreaterThan(0);
    expect(
      statusLog.some((x) => x.a === 'down'),
      'x-event-state showed A down during its outage',
    ).toBe(true);
    expect(statusLog.at(-1)?.a, 'and A up again at the end').not.toBe('down');

    // ---- both players: no error, no stall over 1 s, media time advanced ----
    players.forEach((_player, i) => {
      const kind = i === 0 ? 'dash' : 'hls';
      const advanced = end[i].currentTime - start[i].currentTime;
      const stalls = end[i].stalls
        .filter((st) => (st.end ?? Date.now()) > startedAt)
        .map((st) => ({ at: new Date(st.start).toISOString().slice(11, 23), ms: (st.end ?? Date.now()) - st.start }));
      if (advanced < watched - 5) console.log(`${kind} samples:\n${end[i].samples.join('\n')}`);
      const seeks = end[i].seeks.map(
        (x) => `${new Date(x.at).toISOString().slice(11, 19)} ${x.from.toFixed(1)}→${x.to.toFixed(1)}`,
      );
      console.log(
        `${kind}: advanced ${advanced.toFixed(1)} s in ${watched.toFixed(1)} s; latency ${start[i].latency?.toFixed(1)} → ${end[i].latency?.toFixed(1)} s; seeks ${JSON.stringify(seeks)}; stalls ${JSON.stringify(stalls)}; warnings ${JSON.stringify(end[i].warnings.map((w) => `${new Date(w.at).toISOString().slice(11, 23)} ${w.code} ${w.message}`.slice(0, 160)))}`,
      );
    });
    players.forEach(({ pageErrors }, i) => {
      const kind = i === 0 ? 'dash' : 'hls';
      expect(end[i].errors, `${kind} player errors`).toEqual([]);
      expect(pageErrors, `${kind} page errors`).toEqual([]);
      const now = Date.now();
      const longStalls = end[i].stalls.filter((st) => (st.end ?? now) > startedAt && (st.end ?? now) - st.start > 1000);
      expect(longStalls, `${kind} stalls longer than 1 s`).toEqual([]);
      // Not `watched - 5`: inside the full suite on a busy 2-core machine, Chromium's media clock
      // under hls.js sometimes runs at 0.85-0.95× wall time while 10-16 s are buffered ahead
      // (readyState 4, rate 1, no seek, no `waiting`; see the samples printed above): the origin
      // delivered, the browser played slowly. A frozen or starved player still fails here.
      expect(end[i].currentTime - start[i].currentTime, `${kind} media time advanced`).toBeGreaterThan(watched * 0.6);
    });
  }, 150_000);
});
