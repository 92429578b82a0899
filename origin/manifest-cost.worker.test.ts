/**
 * What a manifest costs at the worst realistic state: a 2 h DVR window of six tracks from two
 * pipelines in which both pipelines missed 30 minutes. The window is written straight into the
 * origin's SQLite (runInDurableObject) so the test builds two hours of history in seconds; the
 * newest segment of every track arrives through the ingest route, so pipeline health is real.
 */
import { env, evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultEventConfig } from '../contract/event-config.ts';
import { ingestPut, randomEventId } from '../test/ingest-client.ts';
import { loadMedia, liveK, type Media, segmentFor } from '../test/media.ts';
import type { EventOrigin } from './event-origin.ts';

const url = inject('workerUrl');
const { segmentDurationMs: D, dvrWindowSeconds } = defaultEventConfig;
const WINDOW = (dvrWindowSeconds * 1000) / D; // 3600 segments
const GAP = (30 * 60 * 1000) / D; // 900 segments
const TRACKS = ['v1080', 'v720', 'v540', 'v360', 'aen', 'aes'];
/** Upper bound for one manifest answer at this state (in-process workerd, shared 2-core machine). */
const MANIFEST_BUDGET_MS = 100;

let video: Media;
let audio: Media;
beforeAll(async () => {
  [video, audio] = await Promise.all([loadMedia({ kind: 'video' }), loadMedia({ kind: 'audio' })]);
});

const originOf = (event: string) =>
  env.EVENT_ORIGIN.get(env.EVENT_ORIGIN.idFromName(`${event}:r1`)) as DurableObjectStub<EventOrigin>;

async function twoHoursWithAGap(): Promise<{ event: string; newest: number; gapFrom: number }> {
  const event = randomEventId('cost');
  const newest = liveK(D) - 1;
  const first = newest - WINDOW + 2;
  const gapFrom = first + 1000;
  for (const track of TRACKS) {
    const media = track.startsWith('a') ? audio : video;
    const contentType = track.startsWith('a') ? 'audio/mp4' : 'video/mp4';
    for (const p of ['A', 'B']) {
      const meta = { bandwidth: 400_000, ...(track.startsWith('a') ? { language: track.slice(1) } : {}) };
      expect((await ingestPut(url, `${event}/${p}/${track}/init.mp4`, media.init, { contentType, meta })).status).toBe(
        201,
      );
    }
  }
  await runInDurableObject(originOf(event), (_instance, state) => {
    const sql = state.storage.sql;
    state.storage.transactionSync(() => {
      for (const track of TRACKS)
        for (const p of ['A', 'B'])
          for (let k = first; k < newest; k++) {
            if (k >= gapFrom && k < gapFrom + GAP) continue;
            sql.exec(
              `INSERT INTO candidates (track, k, pipeline, region, size, sha256, defects, received_at)
               VALUES (?, ?, ?, 'r1', 250000, 'x', '[]', ?)`,
              track,
              k,
              p,
              (k + 1) * D + 1500,
            );
          }
    });
  });
  // Whatever the object derived from its tables at start-up must be derived again.
  await evictDurableObject(originOf(event));
  for (const track of TRACKS) {
    const media = track.startsWith('a') ? audio : video;
    const contentType = track.startsWith('a') ? 'audio/mp4' : 'video/mp4';
    for (const p of ['A', 'B'])
      expect(
        (await ingestPut(url, `${event}/${p}/${track}/${newest}.m4s`, segmentFor(media, newest, D), { contentType }))
          .status,
      ).toBe(201);
  }
  return { event, newest, gapFrom };
}

async function timed(n: number, run: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await run();
    out.push(performance.now() - t0);
  }
  return out;
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const fmt = (v: number[]) => `p50 ${median(v).toFixed(1)} ms, max ${Math.max(...v).toFixed(1)} ms`;

describe('manifest cost at 2 h DVR with a 30-minute gap in both pipelines', () => {
  it('answers every manifest within the budget, whatever the gap', { timeout: 600_000 }, async () => {
    const { event, newest, gapFrom } = await twoHoursWithAGap();
    const get = (path: string) => async () => {
      const res = await fetch(`${url}/live/${event}/${path}`);
      expect(res.status).toBe(200);
      return new TextDecoder().decode(await res.arrayBuffer());
    };
    const first = await timed(1, () => originOf(event).manifestInput());
    const input = await timed(10, () => originOf(event).manifestInput());
    const mpd = await timed(10, get('index.mpd'));
    const media = await timed(10, get('v540/index.m3u8'));
    const delta = await timed(10, get('v540/index.m3u8?_HLS_skip=YES'));
    console.log(
      [
        `manifest cost, ${TRACKS.length} tracks × 2 pipelines, ${WINDOW} segments with a ${GAP}-segment gap:`,
        `  first manifestInput after a restart: ${first[0].toFixed(1)} ms`,
        `  manifestInput RPC:            ${fmt(input)}`,
        `  GET index.mpd:                ${fmt(mpd)}`,
        `  GET v540/index.m3u8:          ${fmt(media)}`,
        `  GET …?_HLS_skip=YES:          ${fmt(delta)}`,
      ].join('\n'),
    );
    const playlist = await get('v540/index.m3u8')();
    // The gap is listed as gaps, and the live end is the newest segment.
    expect(playlist).toContain(`#EXT-X-GAP\n#EXTINF:2.000,\n${gapFrom}.m4s`);
    expect(playlist).toContain(`${newest}.m4s`);
    // A reload with _HLS_skip=YES is a delta update: six segments instead of the whole window.
    const deltaText = await get('v540/index.m3u8?_HLS_skip=YES')();
    expect(deltaText).toMatch(/#EXT-X-SKIP:SKIPPED-SEGMENTS=\d+/);
    expect(deltaText.match(/\.m4s/g)).toHaveLength(6);
    console.log(`  playlist bytes: full ${playlist.length}, delta ${deltaText.length}`);
    for (const v of [input, mpd, media, delta]) expect(median(v)).toBeLessThan(MANIFEST_BUDGET_MS);
  });
});
