/**
 * Where players sit on the live event (docs/manifests.md, "Latency signalling"): the Worker's
 * manifests carry the event's latency (MPD ServiceDescription, HLS HOLD-BACK), and the player
 * page's dash.js and hls.js, which set no delay of their own, follow them. Latency is wall clock
 * minus the capture time of the frame on screen (the page's `latency()`), sampled every 500 ms.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultEventConfig } from '../contract/event-config.ts';
import { resolveLatency } from '../contract/latency.ts';
import { launchChromium } from './browser.ts';

const workerUrl = inject('workerUrl');
const event = inject('liveEvent');
const WATCH_MS = 30_000;
const { segmentDurationMs: D, pipelineDelayMs } = defaultEventConfig;
const target = resolveLatency(defaultEventConfig).targetMs;

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/** Play the event on the player page; the median latency (s) over the watch, the startup (s) and the stalls. */
async function watch(player: 'dash' | 'hls') {
  const page = await browser.newPage();
  await page.goto(`${workerUrl}/?event=${event}&player=${player}`);
  await page.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 0, undefined, {
    timeout: 30_000,
  });
  const samples: number[] = [];
  const until = Date.now() + WATCH_MS;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 500));
    const l = await page.evaluate(() => (window as any).__player.latency() as number | null);
    if (l !== null) samples.push(l);
  }
  const end = await page.evaluate(() => {
    const p = (window as any).__player;
    return { startup: p.startup, stalls: p.stalls.length as number, errors: p.errors as unknown[] };
  });
  await page.close();
  const latency = median(samples);
  const startup = (end.startup.end - end.startup.start) / 1000;
  console.log(
    `${player}: median latency ${latency.toFixed(2)} s (min ${Math.min(...samples).toFixed(2)}, max ${Math.max(...samples).toFixed(2)}, ${samples.length} samples), startup ${startup.toFixed(2)} s (page start to first frame, player library load included), stalls ${end.stalls}`,
  );
  return { latency, startup, stalls: end.stalls, errors: end.errors };
}

describe('live latency', () => {
  it('the manifests tell players where to sit', async () => {
    const mpd = await (await fetch(`${workerUrl}/live/${event}/index.mpd`)).text();
    expect(mpd).toContain(`<Latency target="${target}"`);
    expect(mpd).toContain(`suggestedPresentationDelay="PT${target / 1000}S"`);
    const multivariant = await (await fetch(`${workerUrl}/live/${event}/index.m3u8`)).text();
    const media = /^([^#\s][^\s]*\/index\.m3u8)$/m.exec(multivariant)?.[1];
    const playlist = await (await fetch(`${workerUrl}/live/${event}/${media}`)).text();
    expect(playlist).toMatch(/#EXT-X-SERVER-CONTROL:.*HOLD-BACK=6\.0/);
  });

  it(`dash.js sits at most 4 s behind live (ServiceDescription target ${target / 1000} s)`, async () => {
    const r = await watch('dash');
    expect(r.errors).toEqual([]);
    expect(r.latency).toBeLessThanOrEqual(4);
  }, 90_000);

  it('hls.js sits about HOLD-BACK behind the end of the playlist (RFC 8216bis: at least 3 target durations)', async () => {
    const r = await watch('hls');
    expect(r.errors).toEqual([]);
    // The playlist ends with the newest published segment, up to D + pipelineDelayMs behind real time.
    expect(r.latency).toBeLessThanOrEqual(6 + (D + pipelineDelayMs) / 1000);
  }, 90_000);
});
