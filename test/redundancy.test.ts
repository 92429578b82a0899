/**
 * Redundant epoch-locked pipelines: A and B are separate bridge processes fed by the same
 * contribution feed, started at different moments, never talking to each other. For every K both
 * produce, the segments must be interchangeable; a bridge killed mid-event rejoins within two
 * segments with the same numbering. The feed is `npm start`'s (CEA-608 on, whose PTS slip a 90 kHz
 * tick about every 1.1 s against UTC) with its frame grid 1,499 ticks off the UTC second, not an
 * aligned one (issue 14).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startChromium } from './browser.ts';
import { bridgeStatus, startLiveEvent, waitFor, type LiveEvent } from './live-event.ts';
import { parseWithMp4box } from './mp4box-inspect.ts';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.ts';

const D = 2000;
const workerUrl = inject('workerUrl');
const event = `red-${Date.now().toString(36)}`;
// The `tiny` ladder: this file runs two more pipelines and a browser beside the shared live event
// on a 2-core machine; interchangeability does not depend on the ladder's size.
const tracks = ['v234', 'aen'];
let live: LiveEvent;
let proxy: RecordingProxy;
// Chromium starts while A and B warm up; the playback test closes it before the kill test.
let chromium: ReturnType<typeof startChromium> | undefined;

const published = (pipeline: string, track: string) =>
  [...proxy.bodies.keys()]
    .map((path) => new RegExp(`^/ingest/${event}/${pipeline}/${track}/(\\d+)\\.m4s$`).exec(path))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
const body = (pipeline: string, track: string, file: string) =>
  proxy.bodies.get(`/ingest/${event}/${pipeline}/${track}/${file}`)!.bytes;

beforeAll(async () => {
  chromium = startChromium();
  proxy = await startRecordingProxy(workerUrl);
  live = await startLiveEvent({
    workerUrl,
    event,
    pipelines: ['A', 'B'],
    staggerMs: 3000,
    ladder: 'tiny',
    size: '640x360',
    ingestUrlFor: () => proxy.url,
    sourceFlags: ['--cc608', 'on', '--grid-offset-ticks', '1499'],
  });
  await waitFor(
    async () => tracks.every((t) => published('A', t).filter((k) => published('B', t).includes(k)).length >= 4),
    60_000,
    'four common segments per track',
  );
}, 90_000);

afterAll(async () => {
  await chromium?.close();
  await live?.stop();
  proxy?.close();
});

describe('pipelines A and B, started 3 s apart', () => {
  it('publish byte-identical init segments, so a player can switch without reinitialising', () => {
    for (const track of tracks)
      expect(Buffer.compare(body('A', track, 'init.mp4'), body('B', track, 'init.mp4')), `${track} init`).toBe(0);
  });

  it('publish, for every K both produce, the same tfdt, duration and sample count', () => {
    for (const track of tracks) {
      const common = published('A', track).filter((k) => published('B', track).includes(k));
      expect(common.length).toBeGreaterThanOrEqual(4);
      const init = body('A', track, 'init.mp4');
      for (const k of common) {
        const a = parseWithMp4box(init, body('A', track, `${k}.m4s`));
        const b = parseWithMp4box(init, body('B', track, `${k}.m4s`));
        expect(
          { tfdt: b.baseMediaDecodeTime, duration: b.duration, samples: b.sampleCount, sync: b.firstIsSync },
          `${track}/${k}`,
        ).toEqual({
          tfdt: a.baseMediaDecodeTime,
          duration: a.duration,
          samples: a.sampleCount,
          sync: a.firstIsSync,
        });
      }
    }
  });

  it('plays without error or stall when the player takes A and B alternately, segment by segment', async () => {
    const browser = await chromium!.get();
    try {
      const page = await browser.newPage();
      const served: { k: number; asked: string; candidate: string; status: number }[] = [];
      page.on('response', (res) => {
        // The query also carries the player's CMCD (docs/cmcd.md), before or after ?pipeline=.
        const u = new URL(res.url());
        const m = /\/(\d+)\.m4s$/.exec(u.pathname);
        const asked = u.searchParams.get('pipeline');
        if (m && asked)
          served.push({
            k: Number(m[1]),
            asked,
            candidate: res.headers()['x-candidate'] ?? '',
            status: res.status(),
          });
      });
      await page.goto(`${workerUrl}/?event=${event}&player=dash&alternate=A,B&operator=dev-operator-token`);
      await page.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 0, undefined, {
        timeout: 30_000,
      });
      const startedAt = Date.now();
      const t0 = await page.evaluate(() => document.querySelector('video')!.currentTime);
      await new Promise((r) => setTimeout(r, 16_000));
      const end = await page.evaluate(() => {
        const p = (window as any).__player;
        return { t: document.querySelector('video')!.currentTime, errors: p.errors, stalls: p.stalls };
      });
      expect(end.errors).toEqual([]);
      // dash.js live catch-up may play at a reduced rate for a while to reach its target latency
      expect(end.t - t0, 'media time advanced').toBeGreaterThan(8);
      const longStalls = end.stalls.filter(
        (s: { start: number; end: number | null }) =>
          (s.end ?? Date.now()) > startedAt && (s.end ?? Date.now()) - s.start > 1000,
      );
      expect(longStalls).toEqual([]);
      // both pipelines served, each request answered by the pipeline it asked for
      const video = served.filter((s) => s.status === 200);
      expect(new Set(video.map((s) => s.asked))).toEqual(new Set(['A', 'B']));
      for (const s of video) expect(s.candidate, `K=${s.k}`).toContain(`pipeline=${s.asked}`);
      for (const s of video) expect(s.asked).toBe(s.k % 2 === 0 ? 'A' : 'B');
    } finally {
      await chromium!.close();
    }
  }, 90_000);

  it('rejoins within two segments after a bridge is killed mid-event, with the same numbering', async () => {
    const before = published('A', 'v234');
    const initBefore = Buffer.from(body('A', 'v234', 'init.mp4'));
    // kill at a random moment inside a segment
    await new Promise((r) => setTimeout(r, Math.random() * D));
    live.killBridge('A');
    const killedAt = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    await live.startBridge('A');
    // "started again": the new bridge process answers; from here it must rejoin within 2 segments
    const restartedAt = Date.now();
    await waitFor(async () => published('A', 'v234').some((k) => k * D > killedAt), 20_000, 'A to publish again');
    const rejoinK = published('A', 'v234').find((k) => k * D > killedAt)!;
    const log = live
      .output()
      .split('\n')
      .filter((l) => /starting ffmpeg|listening|connected|lost/.test(l))
      .slice(-6)
      .join('\n');
    expect(
      rejoinK - Math.floor(restartedAt / D),
      `segments between the restart (${new Date(restartedAt).toISOString()}) and the first new one\n${log}`,
    ).toBeLessThanOrEqual(2);
    // Same numbering: every segment A published, before and after the crash, carries the tfdt
    // its number implies (its first frame at or after K·D: within one frame of 30 fps) and the
    // same as B's, and B carried on without a gap.
    const init = body('A', 'v234', 'init.mp4');
    for (const k of published('A', 'v234')) {
      const tfdt = parseWithMp4box(init, body('A', 'v234', `${k}.m4s`)).baseMediaDecodeTime;
      expect(tfdt - k * 180_000, `A v234/${k}`).toBeGreaterThanOrEqual(0);
      expect(tfdt - k * 180_000, `A v234/${k}`).toBeLessThan(3000);
      if (published('B', 'v234').includes(k))
        expect(tfdt, `A v234/${k} as B's`).toBe(
          parseWithMp4box(init, body('B', 'v234', `${k}.m4s`)).baseMediaDecodeTime,
        );
    }
    expect(Buffer.compare(initBefore, init), 'the restarted bridge publishes the same init').toBe(0);
    const b = published('B', 'v234').filter((k) => k >= before[before.length - 1]);
    expect(b.length).toBeGreaterThan(2);
    expect(b[b.length - 1] - b[0] + 1, 'B published every segment while A was down').toBe(b.length);
    expect((await bridgeStatus(live.bridges.A)).pipeline.ffmpegRestarts).toBe(0); // a fresh process, not a restart inside one
  }, 60_000);
});
