/**
 * Ad markers in real players: an operator's break (POST /api/events/{event}/splices) on a live
 * event of its own. hls.js must parse the media playlist's EXT-X-DATERANGE into a date range with
 * the break's ID, START-DATE, PLANNED-DURATION and SCTE35-OUT; dash.js, subscribed to
 * urn:scte:scte35:2014:xml+bin, must fire the MPD Event when its playhead reaches the OUT point,
 * with the splice_event_id and the OUT time as its presentation time (media time is UTC). Neither
 * player may report an error.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Splice } from '../contract/splices.ts';
import { startChromium } from './browser.ts';
import { operatorCall } from './ingest-client.ts';
import { bridgeStatus, type LiveEvent, startLiveEvent, waitFor } from './live-event.ts';

const workerUrl = inject('workerUrl');
const event = `adbreak-${Date.now().toString(36)}`;
let live: LiveEvent;
let chromium: ReturnType<typeof startChromium> | undefined;
let browser: Browser;

/** A 10 s break `aheadMs` after now (players sit several seconds behind it, so they reach it). */
async function postBreak(id: number, aheadMs: number): Promise<Splice> {
  const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + aheadMs).toISOString();
  const res = await operatorCall(workerUrl, `/api/events/${event}/splices`, {
    method: 'POST',
    body: { at, durationSeconds: 10, id },
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { splice: Splice }).splice;
}

beforeAll(async () => {
  chromium = startChromium();
  live = await startLiveEvent({ workerUrl, event, ladder: 'tiny', size: '640x360', sourceFlags: ['--scte35', '0'] });
  await waitFor(
    async () => ((await bridgeStatus(live.bridgeUrl)).publish.published ?? 0) >= 4,
    60_000,
    'the event to publish',
  );
  browser = await chromium.get();
}, 120_000);

afterAll(async () => {
  await chromium?.close();
  await live?.stop();
});

describe('ad markers in players', () => {
  it('hls.js reads the break as a date range with SCTE35-OUT', async () => {
    const splice = await postBreak(777, 6000);
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${workerUrl}/?event=${event}&player=hls`);
    let range: { startMs: number; planned: number; out: string } | null = null;
    let errors: unknown[] = [];
    await waitFor(
      async () => {
        const snap = await page.evaluate(() => {
          const p = (window as any).__player;
          const hls = p.instance;
          const details = hls?.levels?.[Math.max(0, hls.currentLevel)]?.details;
          const r = details?.dateRanges?.['splice-777'];
          return {
            errors: p.errors,
            range: r ? { startMs: r.startDate.getTime(), planned: r.plannedDuration, out: r.attr['SCTE35-OUT'] } : null,
          };
        });
        errors = snap.errors;
        range = snap.range;
        return range !== null || errors.length > 0;
      },
      45_000,
      'hls.js to list the date range',
    );
    await page.close();
    expect(errors, 'player errors').toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(range).toEqual({
      startMs: splice.outAt,
      planned: 10,
      out: `0x${Buffer.from(splice.scte35, 'base64').toString('hex').toUpperCase()}`,
    });
  }, 90_000);

  it('dash.js fires the EventStream event at the OUT point with the splice id', async () => {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${workerUrl}/?event=${event}&player=dash`);
    await waitFor(async () => page.evaluate(() => (window as any).__player?.instance != null), 45_000, 'dash.js');
    await page.evaluate(() => {
      const w = window as any;
      w.__scte35 = [];
      w.__player.instance.on(
        'urn:scte:scte35:2014:xml+bin',
        (e: any) =>
          w.__scte35.push({
            id: e.event.id,
            at: e.event.calculatedPresentationTime,
            playhead: w.__player.instance.time(),
          }),
        null,
        { mode: (window as any).dashjs.MediaPlayer.events.EVENT_MODE_ON_START },
      );
    });
    // Posted once the listener is on: dash.js fires an event when its playhead reaches it.
    const splice = await postBreak(778, 8000);
    let fired: { id: number; at: number; playhead: number }[] = [];
    let errors: unknown[] = [];
    await waitFor(
      async () => {
        const snap = await page.evaluate(() => ({
          fired: (window as any).__scte35,
          errors: (window as any).__player.errors,
        }));
        errors = snap.errors;
        fired = snap.fired;
        // The earlier test's break (777) may fire too if this page joined before it: wait for this one.
        return fired.some((f) => f.id === 778) || errors.length > 0;
      },
      60_000,
      'dash.js to fire the SCTE-35 event',
    );
    await page.close();
    expect(errors, 'player errors').toEqual([]);
    expect(pageErrors).toEqual([]);
    const mine = fired.find((f) => f.id === 778)!;
    expect(mine).toBeDefined();
    expect(mine.at * 1000).toBeCloseTo(splice.outAt, 0);
    console.log(
      `dash.js fired splice 778 at playhead ${new Date(mine.playhead * 1000).toISOString()} (OUT ${new Date(splice.outAt).toISOString()})`,
    );
  }, 90_000);
});
