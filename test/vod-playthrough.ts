/**
 * Plays a static (VOD) stream from start to end with dash.js or hls.js in Chromium and reports
 * what the browser saw: whether it ended, what each MSE SourceBuffer and the video element held at
 * the end, how many frames were decoded, every player error, and the stalls after the first frame.
 * The players are the node_modules builds the player page vendors (scripts/vendor-players.ts),
 * loaded into a blank page of the stream's own server, as test/ll-hls-playback.test.ts does.
 */
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';

// By path: dashjs's package exports do not list its dist files.
const LIBRARIES = {
  dash: fileURLToPath(new URL('../node_modules/dashjs/dist/modern/umd/dash.all.min.js', import.meta.url)),
  hls: fileURLToPath(new URL('../node_modules/hls.js/dist/hls.min.js', import.meta.url)),
};

export type Range = [start: number, end: number];

export interface Playthrough {
  ended: boolean;
  currentTime: number;
  duration: number;
  /** video.buffered: what every SourceBuffer holds (their intersection). */
  buffered: Range[];
  /**
   * Each SourceBuffer the player created: its MIME type, what it held at the end (null if removed
   * before), and every timestampOffset the player gave it. A player that finds a segment's times
   * other than its manifest says re-maps them with a new offset (hls.js: "remapping timestamps").
   */
  sourceBuffers: { type: string; buffered: Range[] | null; timestampOffsets: number[] }[];
  totalVideoFrames: number;
  droppedVideoFrames: number;
  errors: string[];
  pageErrors: string[];
  /** Stalls (`waiting` until `playing`) after the first frame, in wall-clock seconds. */
  stalls: number[];
  /** currentTime at every `seeking` before the first frame (a player moving to where the media starts). */
  startSeeks: number[];
  /** currentTime at every `seeking` after the first frame (a player jumping a gap seeks). */
  seeks: number[];
  /** Wall-clock seconds from the first frame to the end (or the timeout). */
  playedSeconds: number;
}

/**
 * Loads `manifestUrl` (same origin as `pageUrl`) in a fresh context and plays it from
 * `startPosition` (seconds on the player's timeline) at `playbackRate` until `ended` or
 * `timeoutMs`, then reports. hls.js starts the first segment of a VOD playlist at
 * `hlsTimelineOffset` (its config.timelineOffset; 0 by default), dash.js where the MPD says.
 */
export async function playThrough(
  browser: Browser,
  opts: {
    player: 'dash' | 'hls';
    pageUrl: string;
    manifestUrl: string;
    startPosition: number;
    hlsTimelineOffset?: number;
    playbackRate: number;
    timeoutMs: number;
  },
): Promise<Playthrough> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // Before any player script: keep a handle on every SourceBuffer, whichever MediaSource the
    // player picks (hls.js prefers ManagedMediaSource where there is one), and note every
    // timestampOffset set on one.
    await page.addInitScript(() => {
      const w = window as any;
      w.__sourceBuffers = [];
      for (const MS of [w.MediaSource, w.ManagedMediaSource].filter(Boolean)) {
        const add = MS.prototype.addSourceBuffer;
        MS.prototype.addSourceBuffer = function (type: string) {
          const sb = add.call(this, type);
          w.__sourceBuffers.push({ type, sb, timestampOffsets: [] });
          return sb;
        };
      }
      const offset = Object.getOwnPropertyDescriptor(SourceBuffer.prototype, 'timestampOffset')!;
      Object.defineProperty(SourceBuffer.prototype, 'timestampOffset', {
        ...offset,
        set(this: SourceBuffer, value: number) {
          w.__sourceBuffers.find((s: { sb: SourceBuffer }) => s.sb === this)?.timestampOffsets.push(value);
          offset.set!.call(this, value);
        },
      });
    });
    await page.goto(opts.pageUrl);
    await page.addScriptTag({ path: LIBRARIES[opts.player] });
    await page.evaluate(
      ({ player, manifestUrl, startPosition, timelineOffset, playbackRate }) => {
        const w = window as any;
        const video = document.querySelector('video')!;
        const ranges = (r: TimeRanges) => Array.from({ length: r.length }, (_, i) => [r.start(i), r.end(i)]);
        const state = {
          errors: [] as string[],
          stalls: [] as number[],
          startSeeks: [] as number[],
          seeks: [] as number[],
          firstFrameAt: null as number | null,
          waitingSince: null as number | null,
          end: null as unknown,
        };
        w.__vod = state;
        w.__snapshot = () => {
          const now = performance.now();
          const q = video.getVideoPlaybackQuality();
          return {
            ended: video.ended,
            currentTime: video.currentTime,
            duration: video.duration,
            buffered: ranges(video.buffered),
            sourceBuffers: w.__sourceBuffers.map(
              ({ type, sb, timestampOffsets }: { type: string; sb: SourceBuffer; timestampOffsets: number[] }) => {
                let buffered = null;
                try {
                  buffered = ranges(sb.buffered);
                } catch {}
                return { type, buffered, timestampOffsets: [...timestampOffsets] };
              },
            ),
            totalVideoFrames: q.totalVideoFrames,
            droppedVideoFrames: q.droppedVideoFrames,
            errors: [...state.errors],
            stalls: [...state.stalls, ...(state.waitingSince === null ? [] : [(now - state.waitingSince) / 1000])],
            startSeeks: [...state.startSeeks],
            seeks: [...state.seeks],
            playedSeconds: state.firstFrameAt === null ? 0 : (now - state.firstFrameAt) / 1000,
          };
        };
        video.addEventListener('playing', () => {
          state.firstFrameAt ??= performance.now();
          if (state.waitingSince !== null) state.stalls.push((performance.now() - state.waitingSince) / 1000);
          state.waitingSince = null;
        });
        video.addEventListener('waiting', () => {
          if (state.firstFrameAt !== null) state.waitingSince ??= performance.now();
        });
        video.addEventListener('seeking', () => {
          (state.firstFrameAt === null ? state.startSeeks : state.seeks).push(video.currentTime);
        });
        video.addEventListener('error', () => state.errors.push(`video ${video.error?.code} ${video.error?.message}`));
        // At the end, before a player reacts to it.
        video.addEventListener('ended', () => (state.end = w.__snapshot()));
        // load() (which MSE attachment runs) resets playbackRate to the default.
        video.defaultPlaybackRate = playbackRate;
        video.playbackRate = playbackRate;
        if (player === 'dash') {
          const dash = w.dashjs.MediaPlayer().create();
          for (const event of [w.dashjs.MediaPlayer.events.ERROR, w.dashjs.MediaPlayer.events.PLAYBACK_ERROR])
            dash.on(event, (e: { error?: { code?: number; message?: string } }) =>
              state.errors.push(`dash ${e.error?.code} ${e.error?.message}`),
            );
          dash.initialize(video, manifestUrl, true, startPosition);
          w.__player = dash;
        } else {
          // hls.js counts startPosition from timelineOffset.
          const hls = new w.Hls({ timelineOffset, startPosition: startPosition - timelineOffset });
          // Every error, fatal or not: a seamless stream gives hls.js nothing to recover from.
          hls.on(w.Hls.Events.ERROR, (_e: unknown, d: { fatal: boolean; details: string }) =>
            state.errors.push(`hls ${d.fatal ? 'fatal ' : ''}${d.details}`),
          );
          hls.loadSource(manifestUrl);
          hls.attachMedia(video);
          video.play().catch((e) => state.errors.push(`play() ${e}`));
          w.__player = hls;
        }
      },
      {
        player: opts.player,
        manifestUrl: opts.manifestUrl,
        startPosition: opts.startPosition,
        timelineOffset: opts.hlsTimelineOffset ?? 0,
        playbackRate: opts.playbackRate,
      },
    );
    await page
      .waitForFunction(() => (window as any).__vod.end !== null, undefined, { timeout: opts.timeoutMs, polling: 100 })
      .catch(() => undefined);
    const report = await page.evaluate(() => (window as any).__vod.end ?? (window as any).__snapshot());
    return { ...report, pageErrors };
  } finally {
    await context.close();
  }
}
