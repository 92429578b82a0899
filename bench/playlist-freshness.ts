/**
 * Playlist freshness benchmark: `node bench/playlist-freshness.ts` (a section of `npm run bench`).
 * Prints markdown.
 *
 * How long after a segment is published the players of a busy event see it listed in the HLS
 * media playlist the edge serves them (docs/edge-shield.md, "A media playlist follows its next segment"). The real Worker under
 * `npm run serve`; one event, two video tracks published together as a pipeline would (segment K
 * PUT at (K+1)·D + PUBLISH_DELAY_MS, the checked-in media). Many players poll each track's
 * playlist (POLLERS, each every POLL_MS at its own phase), so the edge almost always has a copy:
 * - `v1`: the default policy (kept until its next segment ends, then served while one background
 *   refresh waits at the origin for that segment);
 * - `v2`: the previous default, half a segment (D/2), set as an operator TTL rule on that track.
 * Measured per (player, K): the time from the PUT's 201 to the first answer of that player that
 * lists K. The poll interval adds up to POLL_MS to both alike. Beside it, where the answers came
 * from (x-cache) and how many went to the origin.
 */
import { loadavg } from 'node:os';
import { defaultEventConfig } from '../contract/event-config.ts';
import { startServe } from '../scripts/serve.ts';
import { encodeMedia, segmentFor } from '../test/fixtures.ts';
import { DEV_OPERATOR_TOKEN, ingestPut, randomEventId } from '../test/ingest-client.ts';
import { pct } from './stats.ts';

const D = defaultEventConfig.segmentDurationMs;
const PUBLISH_DELAY_MS = 300;
const SEGMENTS = Number(process.env.BENCH_FRESHNESS_SEGMENTS ?? 20);
const POLLERS = 10;
const POLL_MS = 100;
const TRACKS = ['v1', 'v2'] as const;
const log = (m: string) => console.error(`playlist freshness bench: ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (v: number) => `${Math.round(v)} ms`;

const served = await startServe({ port: 0, persistTo: null, logTo: 'stderr' });
const load: number[] = [];
try {
  const url = served.url;
  const video = await encodeMedia({ kind: 'video' });
  const event = randomEventId('fresh');
  const rules = await fetch(`${url}/api/ttl/rules`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      rules: [{ id: 'half-a-segment', match: { type: ['media-playlist'], event, track: 'v2' }, ttlMs: D / 2 }],
    }),
  });
  if (rules.status !== 200) throw new Error(`PUT /api/ttl/rules: ${rules.status} ${await rules.text()}`);

  const publish = async (k: number) => {
    await Promise.all(
      TRACKS.map(async (t) => {
        const res = await ingestPut(url, `${event}/A/${t}/${k}.m4s`, segmentFor(video, k, D));
        if (res.status !== 201) throw new Error(`${t} ${k}: ${res.status} ${await res.text()}`);
      }),
    );
    return performance.now();
  };
  for (const t of TRACKS) {
    const res = await ingestPut(url, `${event}/A/${t}/init.mp4`, video.init);
    if (res.status !== 201) throw new Error(`${t} init: ${res.status} ${await res.text()}`);
  }
  let k = Math.floor(Date.now() / D) - 3;
  for (const j of [k, k + 1]) await publish(j);
  k += 2;

  /** Per track: when each K was published, and when each poller first saw it listed. */
  const publishedAt = new Map<number, number>();
  const seen = new Map<string, Map<number, number>>(); // `${track}/${poller}` → K → first seen
  const sources = Object.fromEntries(TRACKS.map((t) => [t, {} as Record<string, number>]));
  let polling = true;
  const poller = async (track: string, i: number) => {
    const mine = new Map<number, number>();
    seen.set(`${track}/${i}`, mine);
    await sleep((i * POLL_MS) / POLLERS);
    while (polling) {
      const started = performance.now();
      const res = await fetch(`${url}/live/${event}/${track}/index.m3u8`);
      const text = await res.text();
      const at = performance.now();
      const source = res.headers.get('x-cache') ?? 'none';
      sources[track][source] = (sources[track][source] ?? 0) + 1;
      for (const m of text.matchAll(/^(\d+)\.m4s$/gm)) {
        const listed = Number(m[1]);
        if (!mine.has(listed)) mine.set(listed, at);
      }
      await sleep(Math.max(0, POLL_MS - (performance.now() - started)));
    }
  };
  /** The edge's count of origin requests (this isolate): players' misses and background refreshes. */
  const originRequests = async () => {
    const res = await fetch(`${url}/api/events/${event}/state`, {
      headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` },
    });
    if (res.status !== 200) throw new Error(`GET state: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { edge: { shield: { cache: { origin: number } } } }).edge.shield.cache.origin;
  };
  const originBefore = await originRequests();
  const pollers = TRACKS.flatMap((t) => Array.from({ length: POLLERS }, (_, i) => poller(t, i)));
  const measured: number[] = [];
  // Two segments of warm-up (the pollers starting, the edge learning the event), then SEGMENTS measured.
  for (let n = 0; n < SEGMENTS + 2; n++, k++) {
    await sleep(Math.max(0, (k + 1) * D + PUBLISH_DELAY_MS - Date.now()));
    publishedAt.set(k, await publish(k));
    if (n >= 2) measured.push(k);
    load.push(loadavg()[0]);
  }
  await sleep(D);
  polling = false;
  await Promise.all(pollers);
  // Everything the edge asked the origin for meanwhile was a playlist (the PUTs are not cached answers).
  const background = (await originRequests()) - originBefore - TRACKS.reduce((n, t) => n + (sources[t].origin ?? 0), 0);
  log(
    `${SEGMENTS} segments published, ${Object.values(sources).reduce((n, s) => n + Object.values(s).reduce((a, b) => a + b, 0), 0)} playlist answers`,
  );

  const rows = TRACKS.map((track) => {
    const every: number[] = [];
    const first: number[] = [];
    for (const kk of measured) {
      const at = publishedAt.get(kk)!;
      const delays = Array.from({ length: POLLERS }, (_, i) => seen.get(`${track}/${i}`)!.get(kk))
        .filter((t): t is number => t !== undefined)
        .map((t) => Math.max(0, t - at));
      every.push(...delays);
      if (delays.length > 0) first.push(Math.min(...delays));
    }
    return { track, every, first, sources: sources[track] };
  });
  console.log('## Playlist freshness at the edge (HLS media playlists, many players)\n');
  console.log(
    `\`node bench/playlist-freshness.ts\`: the Worker under \`npm run serve\`, one event with two video tracks published together (segment K PUT ${PUBLISH_DELAY_MS} ms after it ends, D = ${D / 1000} s, ${SEGMENTS} segments after two of warm-up); ${POLLERS} players per track poll its media playlist every ${POLL_MS} ms, spread over the interval. Delay: from the PUT's 201 to a player's first answer that lists K (includes up to ${POLL_MS} ms of the player's own poll interval, alike in both rows). Load average during the run ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}.\n`,
  );
  console.log(
    '| media playlist kept | (player, K) | p50 | p90 | max | first player to see K, p50 | answers (x-cache) |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  const label: Record<string, string> = {
    v1: 'until the next segment ends, then refreshed by waiting for it (default)',
    v2: `D/2 = ${D / 2} ms (the previous default, as an operator rule)`,
  };
  for (const r of rows) {
    const answers = Object.entries(r.sources)
      .sort((a, b) => b[1] - a[1])
      .map(([s, n]) => `${s} ${n}`)
      .join(', ');
    console.log(
      `| ${label[r.track]} | ${r.every.length} | ${ms(pct(r.every, 50))} | ${ms(pct(r.every, 90))} | ${ms(Math.max(...r.every))} | ${ms(pct(r.first, 50))} | ${answers} |`,
    );
  }
  console.log(
    `\n\`origin\` answers are the misses players waited for. The default policy also refreshed ${background} times in the background (the edge's own count of origin requests, less the players' misses: about once per segment and isolate, waiting at the origin until the segment landed), unseen by players, who got \`stale\`: the playlist that was still the newest until then.`,
  );
} finally {
  await fetch(`${served.url}/api/ttl/rules/half-a-segment`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` },
  }).catch(() => undefined);
  await served.stop();
}
