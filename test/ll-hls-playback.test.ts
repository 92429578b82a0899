/**
 * LL-HLS end to end (docs/latency.md): a live event of its own (synthetic source → bridge A with
 * `--part-duration-ms 500`, ladder `tiny` → the shared Worker) played by hls.js with `lowLatencyMode: true` in Chromium
 * from `index.m3u8?latency=low` for LL_WATCH_S (default 120 s). Live latency is wall clock minus the capture time of
 * the frame on screen: hls.js maps its playhead to EXT-X-PROGRAM-DATE-TIME, which is K·D since the
 * epoch, the capture UTC of the frame (the epoch anchor), so `Date.now() − playingDate`.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  latencyFigures,
  lowLatencyEvent,
  percentile,
  stallSeconds,
  WATCH_MS,
  watchLatency,
  workerUrl,
} from './ll-playback.ts';

const { event, browser } = lowLatencyEvent('ll');
const hlsJs = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');

describe('LL-HLS in hls.js (lowLatencyMode)', () => {
  it('plays the low-latency playlists with parts, close to live, without errors or stalls', async () => {
    const page = await browser().newPage();
    // Any page of the Worker's origin: the player below fetches same-origin.
    await page.goto(`${workerUrl}/time`);
    await page.setContent('<video muted autoplay playsinline></video>');
    await page.addScriptTag({ path: hlsJs });
    await page.evaluate((src) => {
      const video = document.querySelector('video')!;
      const w = window as any;
      const state = { errors: [] as string[], stalls: [] as { start: number; end: number | null }[], parts: 0 };
      w.__ll = state;
      video.addEventListener('playing', () => {
        const open = state.stalls[state.stalls.length - 1];
        if (open && open.end === null) open.end = Date.now();
      });
      video.addEventListener('waiting', () => {
        if (video.currentTime === 0 || video.seeking) return;
        const open = state.stalls[state.stalls.length - 1];
        if (!open || open.end !== null) state.stalls.push({ start: Date.now(), end: null });
      });
      // As the player page sets it for &latency=low: catch up at up to 1.5× after a slow start.
      const hls = new w.Hls({ lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5 });
      hls.on(w.Hls.Events.ERROR, (_e: unknown, d: { fatal: boolean; details: string }) => {
        if (d.fatal) state.errors.push(d.details);
      });
      hls.on(w.Hls.Events.FRAG_LOADED, (_e: unknown, d: { part?: unknown }) => {
        if (d.part) state.parts++;
      });
      hls.loadSource(src);
      hls.attachMedia(video);
      w.__hls = hls;
    }, `${workerUrl}/live/${event}/index.m3u8?latency=low`);
    await page.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 0, undefined, {
      timeout: 30_000,
    });
    const { samples, own, polls } = await watchLatency(async () => {
      const s = await page.evaluate(() => {
        const hls = (window as any).__hls;
        return { playing: hls.playingDate ? Date.now() - hls.playingDate.getTime() : null, own: hls.latency };
      });
      return { latency: s.playing === null ? null : s.playing / 1000, own: Number.isFinite(s.own) ? s.own : null };
    });
    const end = await page.evaluate(() => {
      const w = window as any;
      const hls = w.__hls;
      return {
        ...w.__ll,
        targetLatency: hls.targetLatency,
        // What hls.js read from the playlist, not what the test configured.
        canBlockReload: hls.levels?.[hls.currentLevel]?.details?.canBlockReload,
        partTarget: hls.levels?.[hls.currentLevel]?.details?.partTarget,
      };
    });
    await page.close();
    const stalls = stallSeconds(end.stalls);
    console.log(
      `LL-HLS hls.js ${WATCH_MS / 1000} s: latency ${latencyFigures(samples)}; hls.js's own ${percentile(own, 0.5).toFixed(2)} s, target ${end.targetLatency} s), parts loaded ${end.parts}, part target ${end.partTarget}, stalls ${stalls.map((s: number) => s.toFixed(2)).join(', ') || 'none'}, errors ${end.errors.join(', ') || 'none'}`,
    );
    expect(end.errors).toEqual([]);
    // hls.js really ran in low-latency mode on parts, not on whole segments.
    expect(end.canBlockReload).toBe(true);
    expect(end.partTarget).toBeGreaterThan(0);
    expect(end.parts).toBeGreaterThan(WATCH_MS / 1000);
    expect(stalls.filter((s: number) => s > 0.5)).toEqual([]);
    // The player sits where the playlist tells it (PART-HOLD-BACK): hls.js's own latency, measured
    // from the playlist's end, ends near its target (1.55 s against 1.5 s on a quiet machine).
    expect(percentile(own, 0.5)).toBeLessThan(end.targetLatency + 1.5);
    // The goal, capture to screen: p50 ≤ 2.5 s (2.01–2.09 s in three CI runs). It adds the
    // bridge's publish delay, which grows with the machine's load (docs/latency.md).
    expect(percentile(samples, 0.5)).toBeLessThanOrEqual(2.5);
    // hls.js mapped the playhead to a program date on (nearly) every sample: it played the whole watch.
    expect(samples.length).toBeGreaterThan(polls * 0.8);
  }, 180_000);
});
