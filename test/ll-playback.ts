/**
 * What the low-latency playback tests (ll-hls-playback.test.ts, ll-dash-playback.test.ts) share:
 * a live event of their own whose bridge publishes 500 ms parts (the shared event publishes none,
 * the bridge's default: docs/latency.md), Chromium, and the watch that samples a player's latency
 * for LL_WATCH_S (default 120 s).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, inject } from 'vitest';
import { launchChromium } from './browser.ts';
import { DEV_OPERATOR_TOKEN } from './ingest-client.ts';
import { bridgeStatus, type LiveEvent, startLiveEvent, waitFor } from './live-event.ts';

export const workerUrl = inject('workerUrl');
export const WATCH_MS = Number(process.env.LL_WATCH_S ?? 120) * 1000;

/**
 * An event named `{prefix}-…` (ladder `tiny`, bridge A with `--part-duration-ms 500`), publishing
 * before the file's tests start, and a browser: both started in beforeAll, stopped in afterAll.
 * `drm` encrypts its media (segments and parts, docs/drm.md) with the development keys.
 */
export function lowLatencyEvent(
  prefix: string,
  opts: { drm?: 'cenc' | 'cbcs' } = {},
): { event: string; browser: () => Browser } {
  const event = `${prefix}-${Date.now().toString(36)}`;
  let live: LiveEvent | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (opts.drm) {
      const res = await fetch(`${workerUrl}/api/events/${event}/drm`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ drm: { scheme: opts.drm } }),
      });
      if (!res.ok) throw new Error(`setting DRM on ${event}: ${res.status} ${await res.text()}`);
    }
    live = await startLiveEvent({ workerUrl, event, ladder: 'tiny', bridgeFlags: ['--part-duration-ms', '500'] });
    await waitFor(
      async () => ((await bridgeStatus(live!.bridgeUrl)).publish.published ?? 0) >= 8,
      90_000,
      `the LL event to publish\n${live.output()}`,
    );
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await live?.stop();
  });
  return { event, browser: () => browser! };
}

/** The value below which a share `p` of `values` lies (p = 0.5: the median). */
export const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * p)];

/**
 * Samples a playing player every 0.5 s for WATCH_MS: `sample` reads the capture-to-screen latency
 * (s) and the player's own latency figure, each null when it has none at that moment (skipped).
 */
export async function watchLatency(
  sample: () => Promise<{ latency: number | null; own: number | null }>,
): Promise<{ samples: number[]; own: number[]; polls: number }> {
  const samples: number[] = [];
  const own: number[] = [];
  const until = Date.now() + WATCH_MS;
  let polls = 0;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 500));
    polls++;
    const s = await sample();
    if (s.latency !== null) samples.push(s.latency);
    if (s.own !== null) own.push(s.own);
  }
  return { samples, own, polls };
}

/** How long each stall lasted (s); one still open lasts until now. */
export const stallSeconds = (stalls: { start: number; end: number | null }[]) =>
  stalls.map((s) => ((s.end ?? Date.now()) - s.start) / 1000);

/** "p50 1.94 s (p10 1.90, p90 2.01, 120 samples": the capture-to-screen figures a test logs. */
export const latencyFigures = (samples: number[]) =>
  `p50 ${percentile(samples, 0.5).toFixed(2)} s (p10 ${percentile(samples, 0.1).toFixed(2)}, p90 ${percentile(samples, 0.9).toFixed(2)}, ${samples.length} samples`;
