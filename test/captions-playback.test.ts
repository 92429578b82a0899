/**
 * Captions in a real browser: a live event of its own (tiny ladder, so it fits beside the
 * shared one on 2 cores) with the synthetic captioner posting "It is HH:MM:SS UTC" every 2 s in
 * English and Spanish through the captions API. hls.js (WebVTT) and dash.js (IMSC1 in stpp) must
 * show those cues on the video element's caption track, at the media time whose UTC the cue
 * names — the same instant as the burnt-in clock — proving X-TIMESTAMP-MAP and the TTML timing.
 * The four players watch at the same time, each in its own page: a cue's placement is read from one
 * snapshot of the player (its playhead's media time and UTC together), not from wall-clock time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import { demoCueText } from '../encoder-bridge/synthetic-captions.ts';
import { startChromium } from './browser.ts';
import { bridgeStatus, startLiveEvent, waitFor, type LiveEvent } from './live-event.ts';

const workerUrl = inject('workerUrl');
const event = `cap-${Date.now().toString(36)}`;
let live: LiveEvent;
let captioner: ChildProcess;
let captionerOutput = '';
let chromium: ReturnType<typeof startChromium> | undefined;
let browser: Browser;

beforeAll(async () => {
  chromium = startChromium();
  live = await startLiveEvent({ workerUrl, event, ladder: 'tiny', size: '640x360' });
  captioner = spawn(process.execPath, ['encoder-bridge/synthetic-captions.ts', '--url', workerUrl, '--event', event], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  captioner.stdout?.on('data', (d) => (captionerOutput += d));
  captioner.stderr?.on('data', (d) => (captionerOutput += d));
  await waitFor(
    async () => ((await bridgeStatus(live.bridgeUrl)).publish.published ?? 0) >= 6,
    60_000,
    'the captions event to publish',
  );
  // The manifests list the caption tracks once the captioner has declared them, which it does
  // only when every region has the event: a player that loaded its manifest before then has no
  // caption track to show (shaka chooses its text stream once, at load).
  await waitFor(async () => captionerOutput.includes('declared '), 60_000, 'the captioner to declare its languages');
  browser = await chromium.get();
}, 120_000);

afterAll(async () => {
  captioner?.kill('SIGTERM');
  await chromium?.close();
  await live?.stop();
});

interface Seen {
  text: string;
  /** UTC (ms) of the cue's start on the media timeline, as the player placed it. */
  startUtcMs: number;
  language: string;
}

describe.concurrent.each([
  ['hls', 'en'],
  ['dash', 'es'],
  ['dash', 'en'],
  ['shaka', 'es'],
])('captions with %s (%s)', (player, language) => {
  // Concurrent: assertions through the test's own `expect`.
  it('shows the posted cues at the media time they name', async ({ expect }) => {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${workerUrl}/?event=${event}&player=${player}&captions=${language}`);
    const seen = new Map<string, Seen>();
    // What the page looked like at the last look: said when too few cues were seen.
    let lastLook = '';
    const deadline = Date.now() + 45_000;
    while (Date.now() < deadline && seen.size < 3) {
      const snap = await page.evaluate(() => {
        const p = (window as any).__player;
        const video = document.querySelector('video')!;
        // UTC of the playhead: dash.js and shaka put media time (= UTC) on the element; hls.js maps it through PROGRAM-DATE-TIME.
        const playheadUtcMs =
          p.kind !== 'hls' ? video.currentTime * 1000 : (p.instance?.playingDate?.getTime() ?? null);
        const tracks = Array.from(video.textTracks).map((t) => ({
          kind: t.kind,
          language: t.language,
          mode: t.mode,
          cues: t.cues?.length ?? null,
        }));
        return {
          captions: p.captions?.() ?? null,
          currentTime: video.currentTime,
          playheadUtcMs,
          errors: p.errors,
          look: { currentTime: video.currentTime, paused: video.paused, tracks, warnings: p.warnings.slice(-3) },
        };
      });
      lastLook = JSON.stringify(snap.look);
      expect(snap.errors, 'player errors').toEqual([]);
      if (snap.captions && snap.playheadUtcMs !== null) {
        // dash.js makes a TTML cue active a moment before it renders it into the overlay, where
        // its text is read from: skip that instant (at least 3 cues must still be seen with text).
        for (const cue of snap.captions.cues.filter((c: { text: string }) => c.text !== '')) {
          // The cue's start in UTC: the playhead's UTC minus how long ago (in media time) the cue began.
          const startUtcMs = snap.playheadUtcMs - (snap.currentTime - cue.start) * 1000;
          seen.set(cue.text, { text: cue.text, startUtcMs, language: snap.captions.language });
        }
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    await page.close();
    expect(pageErrors, 'page errors').toEqual([]);
    expect(
      seen.size,
      `distinct cues seen (last look: ${lastLook}; captioner: ${captionerOutput.slice(-500)})`,
    ).toBeGreaterThanOrEqual(3);
    for (const cue of seen.values()) {
      expect(cue.language).toBe(language);
      // Each cue starts on the 2 s grid and names its own start: placed within a frame of it.
      const named = Math.round(cue.startUtcMs / 2000) * 2000;
      expect(cue.text).toBe(demoCueText(language, named));
      expect(
        Math.abs(cue.startUtcMs - named),
        `${cue.text} placed at ${new Date(cue.startUtcMs).toISOString()}`,
      ).toBeLessThan(100);
    }
    console.log(
      `${player}/${language}: ${[...seen.values()].map((c) => `${c.text} @ ${new Date(c.startUtcMs).toISOString()}`).join('; ')}`,
    );
  }, 90_000);
});
