/**
 * Real Chromium plays the live event through the Worker's player page with dash.js, shaka-player
 * and hls.js, with the manifests personalised for the `browser` device profile (what Chromium
 * plays; docs/manifests.md): currentTime advances for at least 20 s, no player error, no stall
 * longer than 1 s. (Every other browser test plays the unpersonalised manifests.)
 * The three players watch at the same time, each in its own page of one Chromium: a third of the
 * wall time, and each must still play without a stall while the other two decode beside it.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import { loadavg } from 'node:os';
import { launchChromium } from './browser.ts';
import { bridgeStatus } from './live-event.ts';

const workerUrl = inject('workerUrl');
const event = inject('liveEvent');
const bridgeUrl = inject('liveBridgeUrl');
const WATCH_MS = 22_000;

interface PlayerSnapshot {
  currentTime: number;
  errors: unknown[];
  /** Date.now() ms, same clock as this process. */
  stalls: { start: number; end: number | null }[];
  latency: number | null;
  rendition: unknown;
}

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe.concurrent.each(['dash', 'shaka', 'hls'])('playback with %s', (player) => {
  // Concurrent: assertions through the test's own `expect`.
  it(`plays the live event for ${WATCH_MS / 1000} s without error or stall`, async ({ expect }) => {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${workerUrl}/?event=${event}&player=${player}&device=browser`);
    expect(await page.evaluate(() => (window as any).__player.manifestUrl)).toContain('device=browser');
    const snapshot = () =>
      page.evaluate((): PlayerSnapshot => {
        const p = (window as any).__player;
        const video = document.querySelector('video')!;
        return {
          currentTime: video.currentTime,
          errors: [...(p?.errors ?? [])],
          stalls: [...(p?.stalls ?? [])],
          latency: p?.latency?.() ?? null,
          rendition: p?.rendition?.() ?? null,
        };
      });
    // playing: currentTime has started to move
    await page.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 0, undefined, {
      timeout: 30_000,
    });
    const start = await snapshot();
    const startedAt = Date.now();
    let last = start;
    // What the pipeline and the machine did meanwhile, for the failure message: a stall is a
    // player's problem only if the segments kept coming.
    const context: string[] = [];
    while (Date.now() - startedAt < WATCH_MS) {
      await new Promise((r) => setTimeout(r, 2000));
      last = await snapshot();
      const status = await bridgeStatus(bridgeUrl).catch(() => undefined);
      context.push(
        `${new Date().toISOString().slice(11, 19)} load ${loadavg()[0].toFixed(1)} bridge lastK ${status?.publish.lastK} published ${status?.publish.published} failed ${status?.publish.failed} restarts ${status?.pipeline.ffmpegRestarts}`,
      );
    }
    const why = `\n${context.join('\n')}`;
    await page.close();
    const watched = (Date.now() - startedAt) / 1000;
    expect(last.errors, `player errors${why}`).toEqual([]);
    expect(pageErrors, 'page errors').toEqual([]);
    // Live catch-up may play slower or faster than real time for a while to reach the target
    // latency, so "advances" means at least half the wall time, not all of it.
    expect(last.currentTime - start.currentTime, 'media time advanced').toBeGreaterThan(watched / 2);
    const now = Date.now();
    const longStalls = last.stalls.filter((s) => (s.end ?? now) > startedAt && (s.end ?? now) - s.start > 1000);
    expect(longStalls, `stalls longer than 1 s while watching${why}`).toEqual([]);
    console.log(
      `${player}: watched ${watched.toFixed(1)} s, latency ${last.latency?.toFixed?.(2)} s, rendition ${JSON.stringify(last.rendition)}`,
    );
  }, 90_000);
});
