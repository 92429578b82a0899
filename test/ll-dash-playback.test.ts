/**
 * LL-DASH end to end (docs/latency.md): a live event of its own (synthetic source → bridge A with
 * `--part-duration-ms 500`, ladder `tiny` → the shared Worker), encrypted (cenc, ClearKey with the
 * development keys: the parts are encrypted at ingest as the segments are), played by the player page's dash.js
 * with `&latency=low`, which plays `index.mpd?latency=low` in dash.js's low-latency mode (turned
 * on by availabilityTimeComplete="false"), for LL_WATCH_S (default 120 s). Segments are asked for
 * at `{K}.m4s?latency=low` as soon as their first part exists and come as a stream of parts.
 * Live latency is wall clock minus the capture time of the frame on screen: with the epoch anchor,
 * dash.js's currentTime is that capture time (the page's `latency()`).
 */
import { describe, expect, it } from 'vitest';
import { devPlayerToken } from './ingest-client.ts';
import {
  latencyFigures,
  lowLatencyEvent,
  percentile,
  stallSeconds,
  WATCH_MS,
  watchLatency,
  workerUrl,
} from './ll-playback.ts';

// The encrypted low-latency case: LL-HLS (ll-hls-playback.test.ts) plays a clear event.
const { event, browser } = lowLatencyEvent('lld', { drm: 'cenc' });

describe('LL-DASH in dash.js (low-latency mode)', () => {
  it('plays the LL MPD on streamed segments, close to live, without errors or stalls', async () => {
    const page = await browser().newPage();
    // Segment answers as dash.js got them: streamed (parts as they land) or whole (stored).
    const answers = {
      stream: 0,
      whole: 0,
      refused: {} as Record<number, number>,
      broken: {} as Record<string, number>,
    };
    page.on('response', (res) => {
      if (!/\/\d+\.m4s\?latency=low/.test(res.url())) return;
      if (res.status() !== 200) answers.refused[res.status()] = (answers.refused[res.status()] ?? 0) + 1;
      else if (res.headers()['x-cache'] === 'stream') answers.stream++;
      else answers.whole++;
    });
    // A stream that broke (a part past its deadline) fails the request after its headers.
    page.on('requestfailed', (req) => {
      const why = req.failure()?.errorText ?? '?';
      if (/\/\d+\.m4s\?latency=low/.test(req.url())) answers.broken[why] = (answers.broken[why] ?? 0) + 1;
    });
    // A player token: keys are never public (docs/player-tokens.md); the page passes it to the license request.
    const licenses: number[] = [];
    page.on('response', (res) => {
      if (res.url().includes(`/drm/clearkey/${event}`)) licenses.push(res.status());
    });
    const token = encodeURIComponent(await devPlayerToken(event));
    await page.goto(`${workerUrl}/?event=${event}&player=dash&latency=low&token=${token}`);
    await page
      .waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 0, undefined, { timeout: 30_000 })
      .catch(async (err: Error) => {
        const errors = await page.evaluate(() => JSON.stringify((window as any).__player?.errors ?? 'no player'));
        throw new Error(`${err.message}; player errors ${errors}; segment answers ${JSON.stringify(answers)}`);
      });
    const { samples, own, polls } = await watchLatency(async () => {
      const s = await page.evaluate(() => {
        const p = (window as any).__player;
        return { viewer: p.latency() as number | null, own: p.instance.getCurrentLiveLatency() as number };
      });
      return { latency: s.viewer, own: Number.isFinite(s.own) && s.own > 0 ? s.own : null };
    });
    const end = await page.evaluate(() => {
      const p = (window as any).__player;
      return {
        errors: p.errors as { code: string; message: string }[],
        stalls: p.stalls as { start: number; end: number | null }[],
        lowLatency: p.instance.getLowLatencyModeEnabled() as boolean,
        target: p.instance.getTargetLiveDelay() as number,
        manifestUrl: p.manifestUrl as string,
      };
    });
    await page.close();
    const stalls = stallSeconds(end.stalls);
    console.log(
      `LL-DASH (cenc) dash.js ${WATCH_MS / 1000} s: latency ${latencyFigures(samples)}; dash.js's own ${percentile(own, 0.5)?.toFixed(2)} s, target ${end.target} s), low-latency mode ${end.lowLatency}, segments streamed ${answers.stream} (failed after their headers: ${JSON.stringify(answers.broken)}), whole ${answers.whole}, refused ${JSON.stringify(answers.refused)}, stalls ${stalls.map((s) => s.toFixed(2)).join(', ') || 'none'}, errors ${end.errors.map((e) => e.code).join(', ') || 'none'}`,
    );
    const manifest = new URL(end.manifestUrl);
    expect(manifest.pathname).toMatch(/\/index\.mpd$/);
    expect(manifest.searchParams.get('latency')).toBe('low');
    // It played encrypted media: ClearKey licenses came from the Worker.
    expect(licenses.length).toBeGreaterThan(0);
    expect(licenses.filter((s) => s !== 200)).toEqual([]);
    // A late clock sync (dash.js 16) on a loaded machine: dash.js then uses the device clock, which
    // here is the server's own (same machine). Any other player error fails the test.
    const clockSync = (e: { code: string; message: string }) =>
      e.code === 'dash 16' && e.message === 'Failed to synchronize client and server time';
    expect(end.errors.filter((e) => !clockSync(e))).toEqual([]);
    // dash.js ran in its low-latency mode on segments streamed while they were written.
    expect(end.lowLatency).toBe(true);
    expect(answers.stream).toBeGreaterThan(WATCH_MS / 1000 / 4);
    expect(stalls.filter((s) => s > 0.5)).toEqual([]);
    // dash.js aims at the LL MPD's Latency@target (2 s), not the standard one (3.5 s).
    expect(end.target).toBe(2);
    // The goal, capture to screen: p50 ≤ 2.5 s (1.96–2.00 s in three CI runs, 1.98 s
    // encrypted on a quiet machine). It grows with the machine's load (docs/latency.md).
    expect(percentile(samples, 0.5)).toBeLessThanOrEqual(2.5);
    // The playhead mapped to a capture time on (nearly) every sample: it played the whole watch.
    expect(samples.length).toBeGreaterThan(polls * 0.8);
  }, 180_000);
});
