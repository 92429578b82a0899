/**
 * LL-HLS blocking-reload benchmark (issue 15; docs/latency.md): `node bench/ll-hls.ts`, a section of
 * `npm run bench`. Prints markdown.
 *
 * The real Worker under `wrangler dev` (edge shield, EventOrigin). For each round a player's
 * blocking playlist request (`?latency=low&_HLS_msn=K&_HLS_part=n`) and a held part request
 * (`{K}.{n}.m4s`) are made before part n of K exists; 200 ms later the part is PUT. Measured: the
 * time from the PUT's 201 to each answer's arrival. Beside it, in the same run, the baseline the
 * origin already had: a whole segment's held GET (live-edge hold) answered after its PUT. Goal
 * (issue 15): blocking reload p99 ≤ 50 ms after the part is published.
 */
import { loadavg } from 'node:os';
import { defaultEventConfig } from '../contract/event-config.ts';
import { encodeMedia, partsFor, segmentFor } from '../test/fixtures.ts';
import { ingestPut } from '../test/ingest-client.ts';
import { startWranglerDev } from '../test/wrangler-dev.ts';
import { pct } from './stats.ts';

const D = defaultEventConfig.segmentDurationMs;
const N = 4;
const ROUNDS = Number(process.env.BENCH_LL_ROUNDS ?? 40);
const ms = (v: number) => `${v.toFixed(1)} ms`;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

const video = await encodeMedia({ kind: 'video' });
/** Segment K cut into its N parts on the epoch grid, as the bridge cuts them. */
const partsOf = (k: number): Uint8Array[] => partsFor(video, k, D, N);

const dev = await startWranglerDev();
const load: number[] = [];
try {
  const event = `bench-ll-${Date.now().toString(36)}`;
  const put = async (path: string, body: Uint8Array) => {
    const res = await ingestPut(dev.url, `${event}/A/v1/${path}`, body);
    if (res.status !== 201) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`);
    return performance.now();
  };
  await put('init.mp4', video.init);
  const arrival = (url: string) =>
    fetch(url).then(async (r) => {
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
      return performance.now();
    });
  const blocking: number[] = [];
  const partGets: number[] = [];
  const segmentGets: number[] = [];
  // Each round takes the part being made now by the clock (as an encoder would publish it next);
  // a round that ends within the same part waits for the next one.
  let last = '';
  await put(`${Math.floor(Date.now() / D) - 1}.m4s`, segmentFor(video, Math.floor(Date.now() / D) - 1, D));
  for (let round = 0; round < ROUNDS; round++) {
    let k = 0;
    let n = 0;
    for (;;) {
      const now = Date.now();
      k = Math.floor(now / D);
      n = Math.floor(((now - k * D) * N) / D);
      if (`${k}.${n}` !== last) break;
      await sleep(20);
    }
    const parts = partsOf(k);
    // Parts a slow round skipped: published unmeasured, so the playlist lists every part up to n.
    const [lastK, lastN] = last ? last.split('.').map(Number) : [k, -1];
    for (let m = lastK === k ? lastN + 1 : 0; m < n; m++) await put(`${k}.${m}.m4s`, parts[m]);
    last = `${k}.${n}`;
    const playlist = arrival(`${dev.url}/live/${event}/v1/index.m3u8?latency=low&_HLS_msn=${k}&_HLS_part=${n}`);
    const part = arrival(`${dev.url}/live/${event}/v1/${k}.${n}.m4s`);
    await sleep(200);
    const published = await put(`${k}.${n}.m4s`, parts[n]);
    blocking.push((await playlist) - published);
    partGets.push((await part) - published);
    if (n === N - 1) {
      // The baseline: the whole segment K, held at the live edge until its PUT.
      const segment = arrival(`${dev.url}/live/${event}/v1/${k}.m4s`);
      await sleep(200);
      const stored = await put(`${k}.m4s`, segmentFor(video, k, D));
      segmentGets.push((await segment) - stored);
    }
    load.push(loadavg()[0]);
  }
  const row = (name: string, v: number[]) => `| ${name} | ${v.length} | ${ms(pct(v, 50))} | ${ms(pct(v, 99))} |`;
  console.log(
    [
      '## LL-HLS blocking reload',
      '',
      'From a part PUT’s 201 to the arrival of the answers that were waiting for it (`wrangler dev`, one',
      'origin object); the held whole-segment GET is the live-edge hold the origin already had, in the same run.',
      '',
      '| answer after the publish | n | p50 | p99 |',
      '| --- | --- | --- | --- |',
      row('blocking playlist reload (`_HLS_msn`/`_HLS_part`)', blocking),
      row('held part GET (`{K}.{n}.m4s`)', partGets),
      row('baseline: held segment GET (`{K}.m4s`)', segmentGets),
      '',
      `Goal: blocking reload p99 ≤ 50 ms. Load average during the run ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}.`,
    ].join('\n'),
  );
} finally {
  await dev.stop();
}
