/**
 * CMCD counters move while a player plays (issue 12, docs/cmcd.md): real Chromium plays the live
 * event through the player page, which turns CMCD on in dash.js, shaka-player and hls.js; the
 * player's requests carry `CMCD=`, the event's state counts at least one more session and more
 * requests with CMCD than before, and the answers carry CMSD headers the library parses.
 * Each player plays until its counters have moved and a few segments of each track have been
 * answered (the operator state flushes the edge's CMCD tally before it reads it, so that takes
 * seconds), 15 s at most, the fixed watch this replaced.
 */
import { decodeCmsdDynamic, decodeCmsdStatic } from '@svta/cml-cmsd';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium } from './browser.ts';
import { DEV_OPERATOR_TOKEN } from './ingest-client.ts';

const workerUrl = inject('workerUrl');
const event = inject('liveEvent');
const WATCH_MS = 15_000;
/** Segment answers (video and audio) to see before stopping: startup's and some steady-state ones. */
const MIN_SEGMENTS = 8;

interface Viewers {
  sessions: { active: number; seen: number };
  requests: { withCmcd: number; withoutCmcd: number; malformed: number };
  bitrateKbps: Record<string, Record<string, number>>;
}

async function viewers(): Promise<Viewers> {
  const res = await fetch(`${workerUrl}/api/events/${event}/state`, {
    headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { viewers: Viewers }).viewers;
}

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe.each(['dash', 'shaka', 'hls'])('CMCD from %s', (player) => {
  it(`moves the viewer counters while it plays (within ${WATCH_MS / 1000} s)`, async () => {
    const before = await viewers();
    const page = await browser.newPage();
    const withCmcd: string[] = [];
    const cmsd: { what: string; static: string | null; dynamic: string | null }[] = [];
    page.on('request', (req) => {
      if (req.url().includes('/live/') && new URL(req.url()).searchParams.has('CMCD')) withCmcd.push(req.url());
    });
    page.on('response', (res) => {
      if (/\/live\/.*\.m4s/.test(res.url()))
        cmsd.push({
          what: `${res.status()} ${new URL(res.url()).pathname}`,
          static: res.headers()['cmsd-static'] ?? null,
          dynamic: res.headers()['cmsd-dynamic'] ?? null,
        });
    });
    // For the failure message: requests that failed (a CMCD query once broke shaka's manifest URL).
    const failed: string[] = [];
    page.on('requestfailed', (req) => failed.push(`${req.url()} ${req.failure()?.errorText}`));
    page.on('response', (res) => {
      if (res.status() >= 400) failed.push(`${res.url()} ${res.status()}`);
    });
    await page.goto(`${workerUrl}/?event=${event}&player=${player}`);
    await page
      .waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 0, undefined, { timeout: 30_000 })
      .catch(async (err) => {
        const errors = await page.evaluate(() => JSON.stringify((window as any).__player?.errors ?? []));
        throw new Error(`${player} did not start: ${errors}\n${failed.join('\n')}`, { cause: err });
      });
    // The page's own count first (no state reads meanwhile, which would add to the origin's work),
    // then the state, which flushes the edge's tally, once or until it shows the counters moved.
    const moved = (v: Viewers) =>
      v.sessions.seen > before.sessions.seen && v.requests.withCmcd > before.requests.withCmcd;
    const deadline = Date.now() + WATCH_MS;
    while (Date.now() < deadline && cmsd.length < MIN_SEGMENTS) await new Promise((r) => setTimeout(r, 250));
    while (Date.now() < deadline && !moved(await viewers())) await new Promise((r) => setTimeout(r, 1000));
    const errors = await page.evaluate(() => [...((window as any).__player?.errors ?? [])]);
    await page.close();
    const after = await viewers();

    expect(errors).toEqual([]);
    expect(withCmcd.length, 'player requests with CMCD= in the query').toBeGreaterThan(0);
    expect(after.sessions.seen - before.sessions.seen, 'new sessions').toBeGreaterThanOrEqual(1);
    expect(after.sessions.active).toBeGreaterThanOrEqual(1);
    expect(after.requests.withCmcd - before.requests.withCmcd, 'requests with CMCD').toBeGreaterThan(0);
    expect(after.requests.malformed - before.requests.malformed, 'malformed CMCD').toBe(0);
    // Segment answers carry both CMSD headers, and they parse.
    expect(cmsd.length).toBeGreaterThanOrEqual(MIN_SEGMENTS);
    for (const h of cmsd) {
      expect(decodeCmsdStatic(h.static ?? ''), `CMSD-Static of ${h.what}`).toMatchObject({ st: 'l' });
      expect(decodeCmsdDynamic(h.dynamic ?? ''), `CMSD-Dynamic of ${h.what}`).toHaveLength(1);
    }
    console.log(
      `${player}: ${withCmcd.length} requests with CMCD, e.g. ${decodeURIComponent(withCmcd.at(-1) ?? '')}; viewers ${JSON.stringify(after)}`,
    );
  }, 90_000);
});
