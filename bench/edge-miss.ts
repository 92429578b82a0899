/**
 * Edge miss against edge hit, one request at a time: `node bench/edge-miss.ts` (a section of
 * `npm run bench`). Prints markdown.
 *
 * What a single viewer's startup waits on when nothing of the event is in the edge cache yet
 * (bench/latency.ts's single-viewer rows): the real Worker under `npm run serve`, ROUNDS new
 * events (one video track, init and three past segments from the checked-in media, so every
 * first request is a miss), each object asked twice in a row: the miss (edge → origin object →
 * answer written) and the hit (the edge's hot cache). Beside them, in the same run and the same
 * way: `/time`, a route of the same Worker that answers without the cache or the origin (the
 * runtime's own floor for a request), and nginx serving the same bytes as static files.
 * Serial requests on a kept-alive connection; medians and p90 over the rounds.
 */
import { loadavg } from 'node:os';
import { defaultEventConfig } from '../contract/event-config.ts';
import { startServe } from '../scripts/serve.ts';
import { encodeMedia, segmentFor } from '../test/fixtures.ts';
import { ingestPut, randomEventId } from '../test/ingest-client.ts';
import { startStaticNginx } from './nginx-static.ts';
import { pct } from './stats.ts';

const D = defaultEventConfig.segmentDurationMs;
const ROUNDS = Number(process.env.BENCH_EDGE_MISS_ROUNDS ?? 25);
const log = (m: string) => console.error(`edge miss bench: ${m}`);
const ms = (v: number) => `${v.toFixed(1)} ms`;

const OBJECTS = ['multivariant playlist', 'media playlist', 'MPD', 'init', 'segment'] as const;
type EdgeObject = (typeof OBJECTS)[number];
const pathOf = (event: string, k: number): Record<EdgeObject, string> => ({
  'multivariant playlist': `/live/${event}/index.m3u8`,
  'media playlist': `/live/${event}/v1/index.m3u8`,
  MPD: `/live/${event}/index.mpd`,
  init: `/live/${event}/v1/init.mp4`,
  segment: `/live/${event}/v1/${k}.m4s`,
});

/** One GET, body read: ms, and the edge's x-cache. */
async function timed(url: string): Promise<{ ms: number; cache: string }> {
  const started = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  return { ms: performance.now() - started, cache: res.headers.get('x-cache') ?? '' };
}

const loadBefore = loadavg()[0];
const served = await startServe({ port: 0, persistTo: null, logTo: 'stderr' });
const stops: (() => Promise<unknown>)[] = [served.stop];
try {
  const url = served.url;
  const video = await encodeMedia({ kind: 'video' });
  const miss = new Map<EdgeObject, number[]>(OBJECTS.map((o) => [o, []]));
  const hit = new Map<EdgeObject, number[]>(OBJECTS.map((o) => [o, []]));
  const floor: number[] = [];
  const unexpected: string[] = [];
  /** The answers of the first round, for nginx to serve as files. */
  const bodies = new Map<EdgeObject, Uint8Array>();
  for (let round = 0; round < ROUNDS; round++) {
    const event = randomEventId('miss');
    const k = Math.floor(Date.now() / D) - 3;
    const put = async (path: string, bytes: Uint8Array) => {
      const res = await ingestPut(url, `${event}/A/v1/${path}`, bytes);
      if (res.status !== 201) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`);
    };
    await put('init.mp4', video.init);
    for (const j of [k, k + 1, k + 2]) await put(`${j}.m4s`, segmentFor(video, j, D));
    floor.push((await timed(`${url}/time`)).ms);
    const paths = pathOf(event, k + 2);
    for (const o of OBJECTS) {
      const first = await timed(`${url}${paths[o]}`);
      const second = await timed(`${url}${paths[o]}`);
      if (first.cache !== 'origin' || second.cache !== 'hot')
        unexpected.push(`${o}: ${first.cache} then ${second.cache}`);
      miss.get(o)!.push(first.ms);
      hit.get(o)!.push(second.ms);
      if (round === 0) bodies.set(o, new Uint8Array(await (await fetch(`${url}${paths[o]}`)).arrayBuffer()));
    }
  }
  const files = Object.fromEntries(OBJECTS.map((o, i) => [`f${i}`, bodies.get(o)!]));
  const nginx = await startStaticNginx(files);
  stops.push(nginx.stop);
  const statics = new Map<EdgeObject, number[]>(OBJECTS.map((o) => [o, []]));
  for (let round = 0; round < ROUNDS; round++)
    for (const [i, o] of OBJECTS.entries()) statics.get(o)!.push((await timed(`${nginx.url}/f${i}`)).ms);
  if (unexpected.length > 0) log(`not a miss then a hot hit: ${unexpected.join('; ')}`);

  console.log('## Edge miss and hit, one request at a time\n');
  console.log(
    `\`node bench/edge-miss.ts\`: the Worker on \`npm run serve\`, ${ROUNDS} new events (one video track, init and three past segments from the checked-in media), each object asked twice in a row: the first is a miss (edge → origin object → answer written), the second a hit of the edge's hot cache. Beside them in the same run: \`/time\` of the same Worker (no cache, no origin: the runtime's floor for a request) and nginx serving the same bytes as static files. Serial requests on a kept-alive connection, body read; medians (p90). Load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end.\n`,
  );
  console.log('| object | edge miss | edge hit | miss − hit | nginx, same bytes |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const o of OBJECTS) {
    const m = miss.get(o)!;
    const h = hit.get(o)!;
    const n = statics.get(o)!;
    console.log(
      `| ${o} (${bodies.get(o)!.byteLength.toLocaleString('en')} B) | ${ms(pct(m, 50))} (${ms(pct(m, 90))}) | ${ms(pct(h, 50))} (${ms(pct(h, 90))}) | ${ms(pct(m, 50) - pct(h, 50))} | ${ms(pct(n, 50))} (${ms(pct(n, 90))}) |`,
    );
  }
  console.log(`| \`/time\` (the Worker's floor) | – | ${ms(pct(floor, 50))} (${ms(pct(floor, 90))}) | – | – |`);
  if (unexpected.length > 0) console.log(`\n${unexpected.length} answers were not a miss then a hot hit (stderr).`);
} finally {
  for (const stop of stops.reverse()) await stop().catch((err) => log(`cleanup: ${(err as Error).message}`));
}
