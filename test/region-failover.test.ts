/**
 * Region failover with real players (issue 11, docs/edge-shield.md "Four candidates, two
 * regions"): during the shared live event, whose bridge cross-publishes every segment to r1 and
 * r2, dash.js and hls.js play in Chromium while the home region r1's origin is made to fail with
 * the operator fault switch (edge/fault-routes.ts; `wrangler dev` reads ALLOW_FAULT_INJECTION
 * from .dev.vars): first it hangs, then it errors, about 20 s in all; then it is cleared.
 * - both players play on with no error and no stall over 1 s;
 * - every segment filled during the fault names r2's candidate (x-candidate region=r2 and a
 *   `home-*` reason), as the players' own responses show;
 * - REGION_DOWN_MS after the fault is cleared, segments name r1 again (`home`);
 * - printed: the time from r1's failure to the first r2 answer a player got, and the extra
 *   latency players saw (p50, p99, max) against the same players before the fault.
 */
import { loadavg } from 'node:os';
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expectedPublishMs } from '../contract/epoch.ts';
import { defaultEventConfig } from '../contract/event-config.ts';
import { launchChromium } from './browser.ts';
import { DEV_OPERATOR_TOKEN } from './ingest-client.ts';
import { bridgeStatus } from './live-event.ts';

const workerUrl = inject('workerUrl');
const event = inject('liveEvent');
const bridgeUrl = inject('liveBridgeUrl');
const { segmentDurationMs: D, pipelineDelayMs } = defaultEventConfig;
/** wrangler.toml: what `wrangler dev` runs with. */
const REGION_TIMEOUT_MS = 1500;
const REGION_DOWN_MS = 10_000;
const BASELINE_MS = 12_000;
const HANG_MS = 10_000;
const ERROR_MS = 10_000;
/** After REGION_DOWN_MS has passed since the fault was cleared, how long r1 must be serving again. */
const RECOVERED_MS = 8_000;
const operator = { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Seen {
  who: 'dash' | 'hls';
  kind: 'segment' | 'init' | 'manifest';
  path: string;
  k?: number;
  status: number;
  /** Request start and response end, ms since the epoch (the browser's timing, same machine clock). */
  start: number;
  end: number;
  candidate: string;
  reason: string;
  cache: string;
}
const seen: Seen[] = [];

function classify(path: string): { kind: Seen['kind']; k?: number } | undefined {
  const segment = /\/(\d+)\.m4s$/.exec(path);
  if (segment) return { kind: 'segment', k: Number(segment[1]) };
  if (path.endsWith('/init.mp4')) return { kind: 'init' };
  if (path.endsWith('.mpd') || path.endsWith('.m3u8')) return { kind: 'manifest' };
  return undefined;
}

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  // Never leave the shared event's r1 failing for the tests after this one.
  await setFault('none').catch(() => undefined);
  await browser?.close();
});

async function setFault(mode: string): Promise<number> {
  const res = await fetch(`${workerUrl}/api/events/${event}/fault?region=r1`, {
    method: 'PUT',
    headers: { ...operator, 'content-type': 'application/json' },
    body: JSON.stringify({ mode }),
  });
  const body = (await res.json()) as { since: string; error?: unknown };
  if (res.status !== 200) throw new Error(`fault ${mode}: ${res.status} ${JSON.stringify(body)}`);
  // When the origin object switched (its own clock: the same machine).
  return Date.parse(body.since);
}

async function openPlayer(who: 'dash' | 'hls'): Promise<{ page: Page; pageErrors: string[] }> {
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  const record = async (request: Request) => {
    const url = new URL(request.url());
    if (!url.pathname.startsWith(`/live/${event}/`)) return;
    const what = classify(url.pathname);
    const response = await request.response().catch(() => null);
    if (!what || !response) return;
    const timing = request.timing();
    const headers = await response.allHeaders();
    seen.push({
      who,
      ...what,
      path: url.pathname,
      status: response.status(),
      start: timing.startTime,
      end: timing.startTime + Math.max(0, timing.responseEnd),
      candidate: headers['x-candidate'] ?? '',
      reason: headers['x-candidate-reason'] ?? '',
      cache: headers['x-cache'] ?? '',
    });
  };
  page.on('requestfinished', (r) => void record(r));
  page.on('requestfailed', (r) => void record(r));
  await page.goto(`${workerUrl}/?event=${event}&player=${who}`);
  return { page, pageErrors };
}

const snapshot = (page: Page) =>
  page.evaluate(() => {
    const p = (window as any).__player;
    return {
      currentTime: document.querySelector('video')!.currentTime,
      errors: [...(p?.errors ?? [])],
      stalls: [...(p?.stalls ?? [])] as { start: number; end: number | null }[],
      latency: p?.latency?.() as number | null,
    };
  });

const region = (s: Seen) => /region=(\w+)/.exec(s.candidate)?.[1];
const dueAt = (k: number) => expectedPublishMs(k, D, pipelineDelayMs);
const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
};
const stats = (xs: number[]) =>
  `n=${xs.length} p50=${quantile(xs, 0.5)} p99=${quantile(xs, 0.99)} max=${Math.max(...xs)} ms`;
const at = (ms: number) => new Date(ms).toISOString().slice(11, 23);
const line = (s: Seen) =>
  `${s.who} ${s.path.split('/').slice(-2).join('/')} ${s.status} asked ${at(s.start)}${s.k === undefined ? '' : ` due ${at(dueAt(s.k))}`} +${Math.round(s.end - s.start)} ms ${s.cache} ${s.candidate} ${s.reason}`;

describe('region failover: r1 hangs, then errors, while dash.js and hls.js play', () => {
  it('players play through on r2 and come back to r1', async () => {
    const regions = (await bridgeStatus(bridgeUrl)).publish.regions;
    expect(Object.keys(regions).sort(), 'the bridge cross-publishes to both regions').toEqual(['r1', 'r2']);
    await setFault('none');

    const players = await Promise.all([openPlayer('dash'), openPlayer('hls')]);
    await Promise.all(
      players.map(({ page }) =>
        page.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 0, undefined, {
          timeout: 30_000,
        }),
      ),
    ).catch(async (err) => {
      const states = await Promise.all(players.map(({ page }) => snapshot(page).catch((e) => String(e))));
      throw new Error(
        `${(err as Error).message}\nload ${loadavg()[0].toFixed(1)}; players ${JSON.stringify(states)}\nlast answers:\n  ${seen.slice(-20).map(line).join('\n  ')}`,
      );
    });
    const startedAt = Date.now();
    const start = await Promise.all(players.map(({ page }) => snapshot(page)));
    await sleep(BASELINE_MS);

    const hangAt = await setFault('hang');
    await sleep(HANG_MS - (Date.now() - hangAt));
    const errorAt = await setFault('error');
    await sleep(ERROR_MS - (Date.now() - errorAt));
    const clearedAt = await setFault('none');
    const recoveredFrom = clearedAt + REGION_DOWN_MS + 1000;
    await sleep(recoveredFrom + RECOVERED_MS - Date.now());
    const end = await Promise.all(players.map(({ page }) => snapshot(page)));
    const watched = (Date.now() - startedAt) / 1000;
    const state = (await (await fetch(`${workerUrl}/api/events/${event}/state`, { headers: operator })).json()) as {
      edge: { shield: { regionsDown: Record<string, string> } };
    };

    // ---- what the players were answered ----
    const segments = seen.filter((s) => s.kind === 'segment' && s.start >= startedAt);
    const during = (s: Seen) => s.start >= hangAt && s.start < clearedAt;
    // Filled during the fault: asked after r1 failed, for a K due a segment after it (a
    // live-edge request held open in r1 before the fault may still answer from r1).
    const filledDuringFault = segments.filter((s) => during(s) && s.k! !== undefined && dueAt(s.k!) >= hangAt + D);
    const notR2 = filledDuringFault.filter((s) => s.status !== 200 || region(s) !== 'r2');
    const afterRecovery = segments.filter((s) => s.start >= recoveredFrom && dueAt(s.k!) >= recoveredFrom);
    const notR1 = afterRecovery.filter((s) => s.status !== 200 || region(s) !== 'r1' || s.reason !== 'home');
    const reasons = (xs: Seen[]) => {
      const count: Record<string, number> = {};
      for (const s of xs) count[s.reason || s.status] = (count[s.reason || s.status] ?? 0) + 1;
      return JSON.stringify(count);
    };

    // ---- the figures ----
    const fromOrigin = (s: Seen) => s.cache === 'origin' || s.cache === 'coalesced';
    // Also a request asked just before the fault whose fill reached r1 just after it.
    const firstR2 = seen.filter((s) => s.end >= hangAt && region(s) === 'r2').sort((a, b) => a.end - b.end)[0];
    const firstR1Again = seen
      .filter((s) => s.start >= clearedAt && region(s) === 'r1' && s.reason === 'home')
      .sort((a, b) => a.end - b.end)[0];
    const ms = (s: Seen) => Math.round(s.end - s.start);
    // A live-edge segment asked for before it was due is held until it arrives, fault or not: what
    // the fault adds shows in how long after max(asked, due) the answer came.
    const pastDue = (s: Seen) => Math.round(s.end - Math.max(s.start, dueAt(s.k!)));
    const player = seen.filter((s) => s.start >= startedAt && fromOrigin(s));
    const before = player.filter((s) => s.start < hangAt);
    const inFault = player.filter(during);
    const seg = (xs: Seen[]) => xs.filter((s) => s.kind === 'segment');
    const p99 = (xs: number[]) => quantile(xs, 0.99);
    const since = (s: Seen | undefined, t: number) => (s ? `${Math.round(s.end - t)} ms (${line(s)})` : 'none');
    console.log(
      [
        `region failover on ${event}: hang ${at(hangAt)}, error ${at(errorAt)}, cleared ${at(clearedAt)}; watched ${watched.toFixed(1)} s; load average ${loadavg()
          .map((x) => x.toFixed(1))
          .join(' ')}`,
        `REGION_TIMEOUT_MS=${REGION_TIMEOUT_MS}, REGION_DOWN_MS=${REGION_DOWN_MS}; only answers that reached the origin (x-cache origin/coalesced) are counted below`,
        `r1 hung → first answer naming r2: ${since(firstR2, hangAt)}`,
        `answers that waited for r1's deadline (home-timeout; manifests say no reason, listed when they took over REGION_TIMEOUT_MS):\n  ${player
          .filter((s) => s.end >= hangAt && s.start < clearedAt)
          .filter((s) => s.reason === 'home-timeout' || (s.kind === 'manifest' && ms(s) >= REGION_TIMEOUT_MS))
          .map((s) => `${line(s)}${s.k === undefined ? '' : `, ${pastDue(s)} ms after max(asked, due)`}`)
          .join('\n  ')}`,
        `cleared → first answer naming r1 again: ${since(firstR1Again, clearedAt)}`,
        `latency, all requests: before ${stats(before.map(ms))}; during ${stats(inFault.map(ms))}; p99 +${p99(inFault.map(ms)) - p99(before.map(ms))} ms`,
        `segments, answer after max(asked, due): before ${stats(seg(before).map(pastDue))}; during ${stats(seg(inFault).map(pastDue))}; p99 +${p99(seg(inFault).map(pastDue)) - p99(seg(before).map(pastDue))} ms`,
        `reasons of segments filled during the fault: ${reasons(filledDuringFault)}; after recovery: ${reasons(afterRecovery)}`,
        `slowest during the fault:\n  ${[...inFault]
          .sort((a, b) => ms(b) - ms(a))
          .slice(0, 8)
          .map(line)
          .join('\n  ')}`,
      ].join('\n'),
    );
    players.forEach((_p, i) => {
      const who = i === 0 ? 'dash' : 'hls';
      const stalls = end[i].stalls
        .filter((st) => (st.end ?? Date.now()) > startedAt)
        .map((st) => `${at(st.start)} ${(st.end ?? Date.now()) - st.start} ms`);
      console.log(
        `${who}: advanced ${(end[i].currentTime - start[i].currentTime).toFixed(1)} s in ${watched.toFixed(1)} s; latency ${start[i].latency?.toFixed(1)} → ${end[i].latency?.toFixed(1)} s; stalls ${JSON.stringify(stalls)}`,
      );
    });

    // ---- r1 failed, players were answered from r2 ----
    expect(filledDuringFault.length, 'segments filled during the fault').toBeGreaterThan(10);
    for (const who of ['dash', 'hls'])
      expect(
        filledDuringFault.some((s) => s.who === who),
        who,
      ).toBe(true);
    expect(notR2.map(line), 'segments filled during the fault not from r2').toEqual([]);
    for (const s of filledDuringFault) expect(['home-timeout', 'home-error', 'home-down']).toContain(s.reason);
    expect(
      filledDuringFault.some((s) => s.start < errorAt),
      'r2 answered while r1 hung',
    ).toBe(true);
    expect(
      filledDuringFault.some((s) => s.start >= errorAt),
      'r2 answered while r1 errored',
    ).toBe(true);
    // ---- and back to r1 ----
    expect(afterRecovery.length, 'segments after recovery').toBeGreaterThan(4);
    expect(notR1.map(line), 'segments after recovery not from r1 (home)').toEqual([]);
    expect(state.edge.shield.regionsDown, 'no region remembered down at the end').toEqual({});

    // ---- both players: no error, no stall over 1 s, media time advanced ----
    players.forEach(({ pageErrors }, i) => {
      const who = i === 0 ? 'dash' : 'hls';
      expect(end[i].errors, `${who} player errors`).toEqual([]);
      expect(pageErrors, `${who} page errors`).toEqual([]);
      const now = Date.now();
      const long = end[i].stalls.filter((st) => (st.end ?? now) > startedAt && (st.end ?? now) - st.start > 1000);
      expect(long, `${who} stalls longer than 1 s`).toEqual([]);
      expect(end[i].currentTime - start[i].currentTime, `${who} media time advanced`).toBeGreaterThan(watched * 0.6);
    });
    const refused = player.filter((s) => s.status >= 400);
    if (refused.length)
      console.log(`player requests answered ${refused.length}× >= 400:\n  ${refused.map(line).join('\n  ')}`);
  }, 150_000);
});
