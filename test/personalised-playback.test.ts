/**
 * A mixed-codec live event in real Chromium (issue 12, docs/manifests.md "Personalised
 * manifests"): an AVC + HEVC + AAC + E-AC-3 ladder (test/mixed-codec-ladder.ts, the checked-in
 * ffmpeg encodes) published in real time, segment K shortly after it ends, as a pipeline would
 * (no live encoder: two x265/E-AC-3 bridges would not keep real time on 2 cores beside the shared
 * one). The unpersonalised MPD and multivariant playlist list the HEVC and E-AC-3 renditions,
 * which Chromium here cannot play; the `?device=browser` ones do not; dash.js, shaka-player and
 * hls.js play the personalised stream through the player page with no error, and never ask for a
 * rendition the profile dropped. The three players watch at the same time, each in its own page.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultEventConfig } from '../contract/event-config.ts';
import { startChromium } from './browser.ts';
import { liveK, loadMedia, type Media, segmentFor } from './media.ts';
import { ingestPut, randomEventId } from './ingest-client.ts';
import { MIXED_CODEC_LADDER as LADDER } from './mixed-codec-ladder.ts';

const url = inject('workerUrl');
const { segmentDurationMs: D } = defaultEventConfig;
const WATCH_MS = 12_000;
const event = randomEventId('mixed');
/** What the `browser` profile drops: HEVC video and E-AC-3 audio. */
const UNPLAYABLE = ['h180', 'aen51'];

let media: Media[];
let chromium: ReturnType<typeof startChromium> | undefined;
let browser: Browser;
let publishing = true;
let publisher: Promise<void>;

const contentType = (t: (typeof LADDER)[number]) => (t.media.kind === 'audio' ? 'audio/mp4' : 'video/mp4');

/** Every track's segment K shortly after K·D + D, until the test ends. */
async function publishLive(firstK: number): Promise<void> {
  let next = firstK;
  while (publishing) {
    for (; next <= Math.floor((Date.now() - 300) / D) - 1; next++) {
      await Promise.all(
        LADDER.map((t, i) =>
          ingestPut(url, `${event}/A/${t.id}/${next}.m4s`, segmentFor(media[i], next, D), {
            contentType: contentType(t),
          }),
        ),
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  chromium = startChromium();
  media = await Promise.all(LADDER.map((t) => loadMedia(t.media)));
  for (const [i, t] of LADDER.entries()) {
    const res = await ingestPut(url, `${event}/A/${t.id}/init.mp4`, media[i].init, {
      contentType: contentType(t),
      meta: t.meta,
    });
    expect(res.status, `${t.id} init`).toBe(201);
  }
  const now = liveK(D);
  publisher = publishLive(now - 5);
  // A few segments of every track before any player starts.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const playlist = await (await fetch(`${url}/live/${event}/aen51/index.m3u8`)).text();
    if ((playlist.match(/\.m4s/g) ?? []).length >= 4) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  browser = await chromium.get();
}, 60_000);

afterAll(async () => {
  publishing = false;
  await publisher;
  await chromium?.close();
});

const text = async (path: string) => {
  const res = await fetch(`${url}/live/${event}/${path}`);
  expect(res.status, path).toBe(200);
  return res.text();
};

describe('an AVC + HEVC + AAC + E-AC-3 live event', () => {
  it('lists HEVC and E-AC-3 unpersonalised, and only what Chromium plays for ?device=browser', async () => {
    for (const path of ['index.mpd', 'index.m3u8']) {
      const whole = await text(path);
      expect(whole, path).toMatch(/hvc1\./);
      expect(whole, path).toMatch(/ec-3/);
      expect(whole, path).toMatch(/avc1\./);
      const personal = await text(`${path}?device=browser`);
      expect(personal, `${path}?device=browser`).not.toMatch(/hvc1|hev1|ec-3|ac-3/);
      expect(personal, `${path}?device=browser`).toMatch(/avc1\./);
      expect(personal, `${path}?device=browser`).toMatch(/mp4a\.40\.2/);
      for (const id of UNPLAYABLE) expect(personal, `${path}?device=browser`).not.toMatch(new RegExp(`\\b${id}\\b`));
    }
  });

  describe.concurrent.each(['dash', 'shaka', 'hls'])('%s', (player) => {
    // Concurrent: assertions through the test's own `expect`.
    it(`plays the ?device=browser stream for ${WATCH_MS / 1000} s without error, asking for nothing it dropped`, async ({
      expect,
    }) => {
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      const requests: { track: string; status: number }[] = [];
      page.on('pageerror', (err) => pageErrors.push(err.message));
      page.on('response', (res) => {
        const path = new URL(res.url()).pathname;
        const m = new RegExp(`^/live/${event}/([^/]+)/(init\\.mp4|\\d+\\.m4s|index\\.m3u8)$`).exec(path);
        if (m) requests.push({ track: m[1], status: res.status() });
      });
      await page.goto(`${url}/?event=${event}&player=${player}&device=browser`);
      expect(await page.evaluate(() => (window as any).__player.manifestUrl)).toContain('device=browser');
      await page.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 0, undefined, {
        timeout: 30_000,
      });
      const snapshot = () =>
        page.evaluate(() => {
          const p = (window as any).__player;
          return {
            currentTime: document.querySelector('video')!.currentTime,
            errors: [...(p?.errors ?? [])].map((e: unknown) => JSON.stringify(e)),
            rendition: p?.rendition?.() ?? null,
          };
        });
      const start = await snapshot();
      const startedAt = Date.now();
      await new Promise((r) => setTimeout(r, WATCH_MS));
      const end = await snapshot();
      const watched = (Date.now() - startedAt) / 1000;
      await page.close();
      expect(end.errors, 'player errors').toEqual([]);
      expect(pageErrors, 'page errors').toEqual([]);
      expect(end.currentTime - start.currentTime, 'media time advanced').toBeGreaterThan(watched / 2);
      const asked = new Set(requests.map((m) => m.track));
      for (const id of UNPLAYABLE) expect(asked.has(id), `${player} asked for ${id}`).toBe(false);
      const ok = (prefix: string) => requests.some((m) => m.track.startsWith(prefix) && m.status === 200);
      expect(ok('v'), 'AVC video fetched').toBe(true);
      expect(ok('ae'), 'AAC audio fetched').toBe(true);
      console.log(
        `${player}: watched ${watched.toFixed(1)} s, rendition ${JSON.stringify(end.rendition)}, tracks ${[...asked].sort().join(' ')}`,
      );
    }, 90_000);
  });
});
