/**
 * Region failover benchmark: `node bench/failover.ts` (a section of `npm run bench`). Prints markdown.
 *
 * The real Worker under `npm run serve` (workerd without wrangler dev's proxy), one event whose
 * pipeline A published the same segments into the origins of r1 and r2. Each trial asks for a
 * segment nobody asked for before (nothing cached), so every answer is an origin fill:
 * - baseline: r1 healthy; the answer comes from r1 (`home`);
 * - r1 made to fail (fault injection, `PUT /api/events/{event}/fault?region=r1`, as in
 *   edge/region-failover.worker.test.ts) with `error` (its origin throws) or `hang` (its origin
 *   never answers); the fault is set, then a player asks at once: the time from r1's failure to
 *   the first answer from r2 is that request's time (`home-error` / `home-timeout`);
 * - the next request after that: r1 is remembered down, r2 answers without asking r1 (`home-down`).
 * Between trials the fault is cleared and REGION_DOWN_MS passes, so every trial starts with r1
 * healthy. REGION_DOWN_MS is 1 s here (10 s in wrangler.toml) only to keep the run short: it is
 * how long r1 stays skipped, not part of any measured time. REGION_TIMEOUT_MS is wrangler.toml's.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { defaultEventConfig } from '../contract/event-config.ts';
import { startServe } from '../scripts/serve.ts';
import { DEV_OPERATOR_TOKEN, ingestPut, randomEventId } from '../test/ingest-client.ts';
import { encodeMedia, liveK, segmentFor } from '../test/fixtures.ts';
import { pct } from './stats.ts';

const D = defaultEventConfig.segmentDurationMs;
const TRIALS = Number(process.env.BENCH_FAILOVER_TRIALS ?? 30);
const REGION_DOWN_MS = 1000;
const operator = { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` };
const log = (m: string) => console.error(`failover bench: ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (v: number) => (v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`);

const served = await startServe({
  port: 0,
  persistTo: null,
  logTo: 'stderr',
  vars: { REGION_DOWN_MS: String(REGION_DOWN_MS) },
});
try {
  const url = served.url;
  const video = await encodeMedia({ kind: 'video' });
  const event = randomEventId('failover');
  // Every trial takes 3 fresh segments (baseline, failure, next); all stored past due, inside the DVR window.
  const count = 3 * 2 * TRIALS;
  const first = liveK(D) - count - 4;
  log(`publishing ${count} segments of ${event} into r1 and r2 …`);
  for (const region of ['r1', 'r2']) {
    const init = await ingestPut(url, `${event}/A/v1/init.mp4?region=${region}`, video.init);
    if (init.status !== 201) throw new Error(`init into ${region}: ${init.status} ${await init.text()}`);
    for (let k = first; k < first + count; k++) {
      const res = await ingestPut(url, `${event}/A/v1/${k}.m4s?region=${region}`, segmentFor(video, k, D));
      if (res.status !== 201) throw new Error(`segment ${k} into ${region}: ${res.status} ${await res.text()}`);
    }
  }
  let next = first;

  async function play(): Promise<{ ms: number; reason: string | null; region: string | undefined }> {
    const k = next++;
    const started = performance.now();
    const res = await fetch(`${url}/live/${event}/v1/${k}.m4s`);
    await res.arrayBuffer();
    const took = performance.now() - started;
    if (res.status !== 200) throw new Error(`segment ${k}: ${res.status}`);
    if (res.headers.get('x-cache') !== 'origin') throw new Error(`segment ${k} was not an origin fill`);
    const region = /region=(r\d)/.exec(res.headers.get('x-candidate') ?? '')?.[1];
    return { ms: took, reason: res.headers.get('x-candidate-reason'), region };
  }
  async function setFault(mode: string) {
    const res = await fetch(`${url}/api/events/${event}/fault?region=r1`, {
      method: 'PUT',
      headers: { ...operator, 'content-type': 'application/json' },
      body: JSON.stringify({ mode }),
    });
    if (res.status !== 200) throw new Error(`fault ${mode}: ${res.status} ${await res.text()}`);
  }

  const rows = {
    baseline: [] as number[],
    'error: first answer': [] as number[],
    'error: next answer': [] as number[],
    'hang: first answer': [] as number[],
    'hang: next answer': [] as number[],
  };
  const expectFrom = (a: { reason: string | null; region: string | undefined }, reason: string, region: string) => {
    if (a.reason !== reason || a.region !== region)
      throw new Error(`expected ${reason} from ${region}, got ${a.reason} from ${a.region}`);
  };
  // Round-robin the modes so a busy moment of the machine slows all alike.
  for (let t = 0; t < TRIALS; t++) {
    for (const mode of ['error', 'hang'] as const) {
      const base = await play();
      expectFrom(base, 'home', 'r1');
      rows.baseline.push(base.ms);
      await setFault(mode);
      const firstAnswer = await play();
      expectFrom(firstAnswer, mode === 'error' ? 'home-error' : 'home-timeout', 'r2');
      rows[`${mode}: first answer`].push(firstAnswer.ms);
      const after = await play();
      expectFrom(after, 'home-down', 'r2');
      rows[`${mode}: next answer`].push(after.ms);
      await setFault('none');
      await sleep(REGION_DOWN_MS + 100);
    }
    if (t % 10 === 9) log(`${t + 1}/${TRIALS} trials`);
  }

  const timeoutMs = Number(/REGION_TIMEOUT_MS\s*=\s*"(\d+)"/.exec(readFileSync('wrangler.toml', 'utf8'))?.[1]);
  console.log('## Region failover\n');
  console.log(
    `\`node bench/failover.ts\`: ${TRIALS} trials per failure mode, round-robin; load average ${loadavg()[0].toFixed(1)} at the end. ` +
      'Every request is an uncached segment (an origin fill through the edge shield) on `npm run serve`. ' +
      `"First answer" is the time from r1's failure to the first answer from r2: the fault is set, then the request is made. ` +
      `REGION_TIMEOUT_MS ${timeoutMs} (wrangler.toml); REGION_DOWN_MS shortened to ${REGION_DOWN_MS} ms for the run.\n`,
  );
  console.log('| request | answered by | median | p99 | max | p99 vs baseline |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  const baseP99 = pct(rows.baseline, 99);
  const by: Record<string, string> = {
    baseline: 'r1 (home)',
    'error: first answer': 'r2 (home-error)',
    'error: next answer': 'r2 (home-down)',
    'hang: first answer': 'r2 (home-timeout)',
    'hang: next answer': 'r2 (home-down)',
  };
  for (const [name, values] of Object.entries(rows)) {
    console.log(
      `| ${name} | ${by[name]} | ${ms(pct(values, 50))} | ${ms(pct(values, 99))} | ${ms(Math.max(...values))} | ${(pct(values, 99) / baseP99).toFixed(2)}× |`,
    );
  }
  console.log(
    '\nAn origin that errors is left at once; one that hangs costs REGION_TIMEOUT_MS once per isolate, then is skipped for REGION_DOWN_MS.\n',
  );
} finally {
  await served.stop();
}
