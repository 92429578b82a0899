/**
 * Edge shield benchmark: `node bench/edge.ts` (a section of `npm run bench`). Prints markdown.
 *
 * Everything runs in one script and one run, round-robin so a busy machine slows all alike:
 * - cached 0.5 MB and 2 MB segment GETs (wrk, 64 connections) through the edge shield of the
 *   real Worker under `npm run serve` (scripts/serve.ts: workerd without wrangler dev's proxy),
 *   beside nginx serving the same bytes as a static file, a trivial Worker in the same workerd
 *   returning the same bytes from memory, and the edge through `wrangler dev`;
 * - MPD and HLS media playlist GETs (wrk, 64 connections) of a live event, beside a trivial
 *   Worker returning a tiny body (with our Worker's assets routing, and without it), and the
 *   same manifests through `wrangler dev`;
 * - 500 simulated players for 60 s at the live edge of one video track (bench/edge-players.ts)
 *   while this script publishes a segment every D on the epoch grid, then the origin's own count
 *   of player requests per (track, K) and the shield's counters (`GET /api/events/{event}/state`).
 *
 * Segments are real CMAF (the checked-in 320x180 encode, re-cut onto the epoch grid), padded with
 * filler NAL units (test/media.ts withFiller) to the size wanted; the trivial Worker and nginx
 * serve exactly the bytes the edge serves (checked before timing).
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { defaultEventConfig } from '../contract/event-config.ts';
import { startServe } from '../scripts/serve.ts';
import { DEV_OPERATOR_TOKEN, ingestPut } from '../test/ingest-client.ts';
import { chunks, encodeMedia, liveK, type Media, segmentFor, withFiller } from '../test/fixtures.ts';
import { startWranglerDev } from '../test/wrangler-dev.ts';
import { median } from './cpu.ts';
import { runPlayers } from './edge-players.ts';
import { startStaticNginx } from './nginx-static.ts';
import { cpuOf, descendants } from './proc-cpu.ts';
import { ensureBenchTools } from './system-tools.ts';
import { type WrkResult, wrk } from './wrk.ts';
import { pct } from './stats.ts';

const D = defaultEventConfig.segmentDurationMs;
const CONNECTIONS = 64;
const SECONDS = Number(process.env.BENCH_EDGE_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_EDGE_ROUNDS ?? 3);
const PLAYERS = Number(process.env.BENCH_PLAYERS ?? 500);
const PLAYER_SECONDS = Number(process.env.BENCH_PLAYER_SECONDS ?? 60);
/** Segments published behind the live edge before anything is measured (the DVR the manifests list). */
const HISTORY = 30;
/** When the publisher PUTs segment K: this long after K's end (the bridge's encode-and-upload latency). */
const PUBLISH_LAG_MS = 200;

const log = (m: string) => console.error(`edge bench: ${m}`);
const ms = (v: number) => (v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`);

ensureBenchTools(['wrk', 'nginx']);
const wrkVersion = () => /wrk (\S+)/.exec(spawnSync('wrk', ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? '?';
const nginxVersion = () => /nginx\/(\S+)/.exec(spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr)?.[1] ?? '?';

/** `media` padded so that its segment K is about `bytes` long. */
function sizedSegment(media: Media, k: number, bytes: number): Uint8Array {
  const base = segmentFor(media, k, D).byteLength;
  const all = chunks(media, D);
  const samples = all[k % all.length].samples.length;
  // withFiller(n) adds a NAL unit of 4 + n bytes to every sample.
  const filler = Math.max(1, Math.round((bytes - base) / samples) - 4);
  return segmentFor(withFiller(media, filler), k, D);
}

/**
 * The trivial Worker: the segment bytes held in memory, answered from one shared Uint8Array (as
 * the hot cache holds them) or as a fresh copy per response (`-copy`: in workerd the faster of
 * the two for a trivial Worker, see docs/operations.md), or a tiny body.
 */
const TRIVIAL = `const held = {};
export default {
  fetch(request, env) {
    const m = /\\/(small|large)(-copy)?\\.m4s$/.exec(request.url);
    if (!m) return new Response('ok', { headers: { 'content-type': 'text/plain' } });
    const bytes = (held[m[1]] ??= new Uint8Array(m[1] === 'small' ? env.SMALL : env.LARGE));
    return new Response(m[2] ? bytes.slice() : bytes, { headers: { 'content-type': 'video/mp4' } });
  },
};`;

const [video, audio] = await Promise.all([encodeMedia({ kind: 'video' }), encodeMedia({ kind: 'audio' })]);
const segK = liveK(D) - 20;
const small = sizedSegment(video, segK, 500_000);
const large = sizedSegment(video, segK, 2_000_000);
const mb = (b: Uint8Array) => (b.byteLength / 1e6).toFixed(2);

log('bundling the Worker and starting npm run serve, wrangler dev and nginx …');
const serve = await startServe({
  port: 0,
  persistTo: null,
  logTo: 'stderr',
  extraWorkers: [
    { name: 'trivial', script: TRIVIAL, data: { SMALL: small, LARGE: large }, withAssets: true },
    { name: 'trivial-bare', script: TRIVIAL, data: { SMALL: small, LARGE: large } },
  ],
});
const dev = await startWranglerDev().catch(async (err) => {
  await serve.stop();
  throw err;
});
const nginx = await startStaticNginx({ 'bench/small.m4s': small, 'bench/large.m4s': large }).catch(async (err) => {
  await Promise.all([serve.stop(), dev.stop()]);
  throw err;
});

const id = Date.now().toString(36);
const segEvent = `bench-seg-${id}`;
const liveEvent = `bench-live-${id}`;
const origins = [serve.url, dev.url];
let publishing = true;
let publisher: Promise<void> = Promise.resolve();
const lines: string[] = [];
const loadAtStart = loadavg()[0];

async function put(base: string, path: string, body: Uint8Array, audioTrack = false): Promise<void> {
  const res = await ingestPut(
    base,
    path,
    body,
    audioTrack
      ? {
          contentType: 'audio/mp4',
          meta: path.endsWith('init.mp4') ? { bandwidth: 96_000, language: 'en' } : undefined,
        }
      : {},
  );
  const text = await res.text();
  if (res.status !== 201 && res.status !== 204) throw new Error(`PUT ${path} to ${base} → ${res.status} ${text}`);
}

/**
 * Both tracks of the live event, segment K, cross-published to regions r1 and r2 as the bridge
 * does (the edge asks r2 when r1 is late), to `npm run serve` and, while `alsoToDev` (the wrk
 * runs), to `wrangler dev`: during the players' run the CPU goes to the players.
 */
let alsoToDev = true;
const REGIONS = ['', '?region=r2'];
async function publishLive(k: number): Promise<void> {
  await Promise.all(
    (alsoToDev ? origins : [serve.url]).flatMap((base) =>
      REGIONS.flatMap((region) => [
        put(base, `${liveEvent}/A/v1/${k}.m4s${region}`, segmentFor(video, k, D)),
        put(base, `${liveEvent}/A/a1/${k}.m4s${region}`, segmentFor(audio, k, D), true),
      ]),
    ),
  );
}

/** Segment K at (K+1)·D + PUBLISH_LAG_MS, every D, while `publishing` (a slow PUT never delays the next K). */
async function publishOnTheGrid(firstK: number): Promise<void> {
  const inFlight: Promise<void>[] = [];
  for (let k = firstK; publishing; k++) {
    const at = (k + 1) * D + PUBLISH_LAG_MS;
    await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
    if (!publishing) break;
    const started = Date.now();
    inFlight.push(
      publishLive(k).then(
        () => {
          if (Date.now() - started > D) log(`publishing K=${k} took ${Date.now() - started} ms (machine load)`);
        },
        (err) => log(`publishing K=${k} failed: ${(err as Error).message}`),
      ),
    );
  }
  await Promise.all(inFlight);
}

async function state(base: string, event: string, region?: string): Promise<any> {
  const res = await fetch(`${base}/api/events/${event}/state${region ? `?region=${region}` : ''}`, {
    headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` },
  });
  if (!res.ok) throw new Error(`state of ${event}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function bytesOf(url: string): Promise<{ bytes: Uint8Array; cache: string | null; status: number }> {
  const res = await fetch(url);
  return { bytes: new Uint8Array(await res.arrayBuffer()), cache: res.headers.get('x-cache'), status: res.status };
}

const same = (a: Uint8Array, b: Uint8Array) => a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);

try {
  // --- setup: a segment event (0.5 and 2 MB) and a live event (video + audio, HISTORY segments behind the edge)
  for (const base of origins) {
    await put(base, `${segEvent}/A/v05/init.mp4`, video.init);
    await put(base, `${segEvent}/A/v2/init.mp4`, video.init);
    await put(base, `${segEvent}/A/v05/${segK}.m4s`, small);
    await put(base, `${segEvent}/A/v2/${segK}.m4s`, large);
    for (const region of REGIONS) {
      await put(base, `${liveEvent}/A/v1/init.mp4${region}`, video.init);
      await put(base, `${liveEvent}/A/a1/init.mp4${region}`, audio.init, true);
    }
  }
  const edgeK = liveK(D) - 1;
  for (let k = edgeK - HISTORY; k < edgeK; k++) await publishLive(k);
  publisher = publishOnTheGrid(edgeK);
  log(`published; event ${liveEvent} is live (a segment every ${D} ms)`);

  const segUrl = (base: string, track: string) => `${base}/live/${segEvent}/${track}/${segK}.m4s`;
  const urls = {
    smallEdge: segUrl(serve.url, 'v05'),
    smallDev: segUrl(dev.url, 'v05'),
    smallTrivial: `${serve.extra.trivial}/live/bench/small.m4s`,
    smallTrivialCopy: `${serve.extra.trivial}/live/bench/small-copy.m4s`,
    smallNginx: `${nginx.url}/bench/small.m4s`,
    largeEdge: segUrl(serve.url, 'v2'),
    largeDev: segUrl(dev.url, 'v2'),
    largeTrivial: `${serve.extra.trivial}/live/bench/large.m4s`,
    largeNginx: `${nginx.url}/bench/large.m4s`,
    mpdEdge: `${serve.url}/live/${liveEvent}/index.mpd`,
    mpdDev: `${dev.url}/live/${liveEvent}/index.mpd`,
    hlsEdge: `${serve.url}/live/${liveEvent}/v1/index.m3u8`,
    hlsDev: `${dev.url}/live/${liveEvent}/v1/index.m3u8`,
    tiny: `${serve.extra.trivial}/live/bench/tiny`,
    tinyBare: `${serve.extra['trivial-bare']}/live/bench/tiny`,
  };
  type Target = keyof typeof urls;

  // Every segment target serves exactly the bytes published; the edge's second answer is a hot hit.
  for (const [target, want] of [
    ['small', small],
    ['large', large],
  ] as const) {
    for (const where of ['Edge', 'Dev', 'Trivial', 'TrivialCopy', 'Nginx'] as const) {
      const url = (urls as Record<string, string>)[`${target}${where}`];
      if (!url) continue;
      await bytesOf(url);
      const got = await bytesOf(url);
      if (got.status !== 200 || !same(got.bytes, want))
        throw new Error(
          `${url} does not serve the published ${mb(want)} MB segment (${got.status}, ${got.bytes.byteLength} bytes)`,
        );
      if ((where === 'Edge' || where === 'Dev') && got.cache !== 'hot')
        throw new Error(`${url}: second GET was x-cache ${got.cache}, not hot`);
    }
  }
  const manifestSizes: Record<string, number> = {};
  for (const t of ['mpdEdge', 'hlsEdge', 'mpdDev', 'hlsDev', 'tiny', 'tinyBare'] as const) {
    const got = await bytesOf(urls[t]);
    if (got.status !== 200) throw new Error(`${urls[t]} → ${got.status}`);
    manifestSizes[t] = got.bytes.byteLength;
  }

  // --- wrk, round-robin: one warm-up second per target, then ROUNDS rounds of SECONDS each
  const targets = Object.keys(urls) as Target[];
  log(`wrk: ${targets.length} targets × ${ROUNDS} rounds × ${SECONDS} s at ${CONNECTIONS} connections …`);
  for (const t of targets) await wrk(urls[t], CONNECTIONS, 1);
  // The processes that serve each target, for CPU per request: npm run serve's workerd (our
  // Worker and the trivial ones), wrangler dev's two workerds (proxy and user), nginx.
  const mine = descendants(process.pid);
  const groups = {
    serve: mine.filter((p) => p.comm === 'workerd' && p.ppid === process.pid).map((p) => p.pid),
    dev: mine.filter((p) => p.comm === 'workerd' && p.ppid !== process.pid).map((p) => p.pid),
    nginx: mine.filter((p) => p.comm === 'nginx').map((p) => p.pid),
  };
  const groupOf = (t: Target) => (t.endsWith('Dev') ? 'dev' : t.endsWith('Nginx') ? 'nginx' : 'serve');
  if (groups.serve.length !== 1 || groups.dev.length === 0 || groups.nginx.length === 0)
    throw new Error(`cannot tell the server processes apart: ${JSON.stringify(groups)}`);
  const runs = Object.fromEntries(targets.map((t) => [t, [] as (WrkResult & { cpuUs: number })[]])) as Record<
    Target,
    (WrkResult & { cpuUs: number })[]
  >;
  for (let r = 0; r < ROUNDS; r++) {
    // What the servers spend with no request at all (the publisher's PUTs, timers): subtracted.
    const idle0 = { serve: cpuOf(groups.serve), dev: cpuOf(groups.dev), nginx: cpuOf(groups.nginx) };
    await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
    const idle = {
      serve: cpuOf(groups.serve) - idle0.serve,
      dev: cpuOf(groups.dev) - idle0.dev,
      nginx: cpuOf(groups.nginx) - idle0.nginx,
    };
    for (const t of targets) {
      const g = groupOf(t);
      const before = cpuOf(groups[g]);
      const result = await wrk(urls[t], CONNECTIONS, SECONDS);
      const cpu = Math.max(0, cpuOf(groups[g]) - before - idle[g]);
      runs[t].push({ ...result, cpuUs: (cpu * 1e6) / Math.max(1, result.requests) });
    }
    log(`round ${r + 1} of ${ROUNDS} done (load ${loadavg()[0].toFixed(2)})`);
  }
  const rps = (t: Target) => median(runs[t].map((x) => x.requestsPerSecond));
  const p50 = (t: Target) => median(runs[t].map((x) => x.p50));
  const p99 = (t: Target) => median(runs[t].map((x) => x.p99));
  const mbps = (t: Target) => median(runs[t].map((x) => x.bytesPerSecond)) / 1e6;
  const failures = (t: Target) => runs[t].reduce((n, x) => n + x.failures, 0);
  /** Server CPU per request, µs (median of the rounds). */
  const cpuUs = (t: Target) => median(runs[t].map((x) => x.cpuUs));
  const us = (v: number) => (v >= 10_000 ? `${(v / 1000).toFixed(1)} ms` : `${v.toFixed(0)} µs`);
  /** Median of the per-round ratios a/b, and their range: each round's pair shared the machine. */
  const ratio = (
    a: Target,
    b: Target,
    f: (x: WrkResult & { cpuUs: number }) => number = (x) => x.requestsPerSecond,
  ) => {
    // A round where either run answered nothing in time says nothing about the ratio.
    const each = runs[a]
      .map((x, i) => [x, runs[b][i]] as const)
      .filter(([x, y]) => x.requests > 0 && y.requests > 0)
      .map(([x, y]) => f(x) / f(y));
    if (each.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
    return { median: median(each), min: Math.min(...each), max: Math.max(...each) };
  };

  const pctRange = (r: { median: number; min: number; max: number }) =>
    `${(r.median * 100).toFixed(0)}% (${(r.min * 100).toFixed(0)}–${(r.max * 100).toFixed(0)}%)`;
  const xRange = (r: { median: number; min: number; max: number }) =>
    `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)}×)`;

  const edgeShield = (await state(serve.url, segEvent)).edge.shield;

  alsoToDev = false;

  // --- 500 players
  log(`${PLAYERS} players for ${PLAYER_SECONDS} s on ${liveEvent} …`);
  const before = (await state(serve.url, liveEvent)).edge.shield.cache;
  const loadBeforePlayers = loadavg()[0];
  const players = await runPlayers({
    baseUrl: serve.url,
    event: liveEvent,
    track: 'v1',
    players: PLAYERS,
    seconds: PLAYER_SECONDS,
    segmentDurationMs: D,
  });
  const loadAfterPlayers = loadavg()[0];
  const after = await state(serve.url, liveEvent);
  const r2 = await state(serve.url, liveEvent, 'r2');
  const shieldDelta = Object.fromEntries(
    Object.entries(after.edge.shield.cache as Record<string, number>).map(([k, v]) => [k, v - (before[k] ?? 0)]),
  ) as Record<string, number>;
  const counts = (s: any, k: number) => (s.segmentRequests.bySegment[`v1/${k}`] as number | undefined) ?? 0;
  const ks = [...players.segments].sort((a, b) => a - b);
  /** "31 × 1, 2 × 2" for a list of counts. */
  const tally = (values: number[]) => {
    const t = new Map<number, number>();
    for (const v of values) t.set(v, (t.get(v) ?? 0) + 1);
    return [...t]
      .sort((a, b) => a[0] - b[0])
      .map(([v, n]) => `${n} × ${v}`)
      .join(', ');
  };
  // One fill per (track, K) in this isolate: no region's origin saw a K twice (a fill that found
  // the home region late asks r2 too: one request in each).
  const notOne = ks.filter((k) => counts(after, k) > 1 || counts(r2, k) > 1 || counts(after, k) + counts(r2, k) === 0);
  const originOf = (kind: keyof typeof players.xcache) => players.xcache[kind].origin ?? 0;
  const manifestFills = {
    mpd: originOf('mpd'),
    playlist: originOf('playlist'),
    multivariant: originOf('multivariant'),
  };
  const clientOrigin = Object.values(players.xcache).reduce((n, x) => n + (x.origin ?? 0), 0);
  const ttl = players.manifestTtlMs ?? D / 2;
  const perTtl = (players.seconds * 1000) / ttl;

  publishing = false;
  await publisher;
  const loadAtEnd = loadavg()[0];

  // --- report
  // The goal's baseline: the faster of the two trivial Workers (by median req/s).
  const smallBase: Target = rps('smallTrivialCopy') > rps('smallTrivial') ? 'smallTrivialCopy' : 'smallTrivial';
  // (At 2 MB a copy per response is no baseline: 64 copies in flight fill the isolate's 128 MB.)
  const largeBase: Target = 'largeTrivial';
  const segRow = (label: string, t: Target, base?: Target) =>
    `| ${label} | ${rps(t).toFixed(0)} | ${mbps(t).toFixed(0)} | ${ms(p50(t))} | ${ms(p99(t))} | ${failures(t)} | ${us(cpuUs(t))} | ${base && base !== t ? pctRange(ratio(t, base)) : '—'} |`;
  const manRow = (label: string, t: Target, size: number) =>
    `| ${label} | ${size.toLocaleString('en')} B | ${rps(t).toFixed(0)} | ${ms(p50(t))} | ${ms(p99(t))} | ${failures(t)} | ${us(cpuUs(t))} | ${pctRange(ratio(t, 'tiny'))} | ${xRange(ratio(t, 'tiny', (x) => x.p99))} |`;
  lines.push(
    '## Edge shield: cached GETs and 500 players (`npm run serve`)',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, wrk ${wrkVersion()}, nginx ${nginxVersion()}. ` +
      `Load average (1 min): ${loadAtStart.toFixed(2)} at the start, ${loadAtEnd.toFixed(2)} at the end. ` +
      '`npm run serve` = our Worker bundled as `wrangler deploy` bundles it, on workerd through Miniflare, requests straight into workerd (assets router, then our Worker), no `wrangler dev` proxy (docs/operations.md, "Production-like local mode"). ' +
      `The trivial Workers run in the same workerd; "trivial Worker" has our Worker's assets routing (\`run_worker_first\`), so a request takes the same path as ours; "no assets router" shows what that routing costs. nginx: 1 worker, sendfile. wrk: 2 threads, ${CONNECTIONS} connections, one warm-up second per target, then ${ROUNDS} rounds of ${SECONDS} s, every target once per round (medians; ratio ranges are per round). Server CPU per request: user + system CPU of the processes that serve the target (\`npm run serve\`'s workerd; \`wrangler dev\`'s proxy and user workerd; nginx) during its run, minus what they used in ${SECONDS} s without requests in the same round, divided by the requests answered; unlike req/s it hardly moves with what else loads the machine.`,
    '',
    `### Cached segment GETs (${CONNECTIONS} connections)`,
    '',
    '| target | req/s | MB/s | p50 | p99 | failures | server CPU per request | req/s vs the faster trivial Worker |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    segRow(`**edge shield, ${mb(small)} MB segment**`, 'smallEdge', smallBase),
    segRow(`trivial Worker, the same ${mb(small)} MB from memory (one shared Uint8Array)`, 'smallTrivial', smallBase),
    segRow(`trivial Worker, the same ${mb(small)} MB from memory (a copy per response)`, 'smallTrivialCopy', smallBase),
    segRow(`nginx, the same ${mb(small)} MB as a static file`, 'smallNginx', smallBase),
    segRow(`edge shield through \`wrangler dev\`, ${mb(small)} MB`, 'smallDev', smallBase),
    segRow(`**edge shield, ${mb(large)} MB segment**`, 'largeEdge', largeBase),
    segRow(`trivial Worker, the same ${mb(large)} MB from memory (one shared Uint8Array)`, 'largeTrivial', largeBase),
    segRow(`nginx, the same ${mb(large)} MB as a static file`, 'largeNginx', largeBase),
    segRow(`edge shield through \`wrangler dev\`, ${mb(large)} MB`, 'largeDev', largeBase),
    '',
    `### Manifest GETs (${CONNECTIONS} connections; live event, video + audio, ${HISTORY}+ segments listed, a new one every ${D / 1000} s; kept ${ttl} ms at the edge)`,
    '',
    '| target | body | req/s | p50 | p99 | failures | server CPU per request | req/s vs trivial tiny | p99 vs trivial tiny |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    manRow('**edge shield, MPD**', 'mpdEdge', manifestSizes.mpdEdge),
    manRow('**edge shield, HLS media playlist**', 'hlsEdge', manifestSizes.hlsEdge),
    manRow('trivial Worker, tiny body', 'tiny', manifestSizes.tiny),
    manRow('trivial Worker, tiny body, no assets router', 'tinyBare', manifestSizes.tinyBare),
    manRow('edge shield through `wrangler dev`, MPD', 'mpdDev', manifestSizes.mpdDev),
    manRow('edge shield through `wrangler dev`, HLS media playlist', 'hlsDev', manifestSizes.hlsDev),
    '',
    `Shield counters of the \`npm run serve\` isolate after the wrk runs: ${Object.entries(edgeShield.cache)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} (every wrk answer but the first of each object and each manifest TTL is a hot hit).`,
    '',
  );

  const lat = (kind: keyof typeof players.latency) =>
    players.latency[kind].length
      ? `${ms(pct(players.latency[kind], 50))} / ${ms(pct(players.latency[kind], 99))}`
      : '—';
  const total = Object.values(players.requests).reduce((a, b) => a + b, 0);
  const fillRow = (what: string, fills: number) => `| ${what} | ${fills} | ${(fills / perTtl).toFixed(2)} |`;
  lines.push(
    `### ${PLAYERS} players, ${PLAYER_SECONDS} s (one \`npm run serve\` isolate)`,
    '',
    `Half DASH (MPD every ${D / 2} ms, segment K of video track v1 when it is due, held by the origin until published), half HLS (multivariant once, then the v1 media playlist every ${D / 2} ms and every new segment, starting three from the end); all fetch the init once. Node HTTP clients, one keep-alive agent each, started over the first ${D / 2} ms. This script publishes v1 and a1 segment K at (K+1)·D + ${PUBLISH_LAG_MS} ms to regions r1 (home) and r2, as the bridge cross-publishes. Load average ${loadBeforePlayers.toFixed(2)} before, ${loadAfterPlayers.toFixed(2)} after.`,
    '',
    `- Requests: ${total} in ${players.seconds.toFixed(1)} s (${(total / players.seconds).toFixed(0)}/s, where the players would ask about ${((PLAYERS * 3000) / D).toFixed(0)}/s (a manifest every D/2 and a segment every D each) if every answer came at once): ${Object.entries(
      players.requests,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; failures ${players.failures}${
      players.failures
        ? ` (${Object.entries(players.failuresBy)
            .map(([k, v]) => `${k}: ${v}`)
            .join('; ')})`
        : ''
    }.`,
    `- Latency p50 / p99: segments ${lat('segment')} (DASH requests made before the PUT wait for it), MPD ${lat('mpd')}, media playlist ${lat('playlist')}.`,
    `- **Origin requests per (track, K)** (the origin's own count, \`segmentRequests.bySegment\`): ${ks.length} segments of v1 played (K ${ks[0]}–${ks.at(-1)}), ${players.requests.segment} player segment requests; ` +
      `home region r1: ${tally(ks.map((k) => counts(after, k)))}; r2: ${tally(ks.map((k) => counts(r2, k)))}; ` +
      `${
        notOne.length === 0
          ? 'no origin saw one of them twice'
          : `${notOne.length} reached one origin twice or never (${notOne
              .slice(0, 5)
              .map((k) => `K ${k}: r1 ${counts(after, k)}, r2 ${counts(r2, k)}`)
              .join('; ')})`
      }. ` +
      `Segments answered by candidate reason: ${Object.entries(players.reasons)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')} (a region asked second counts its own request: that is failover, not a second fill).`,
    `- Shield counters during the run (this isolate): ${Object.entries(shieldDelta)
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ', ',
      )}; the players saw \`x-cache: origin\` on ${clientOrigin} answers (segments ${originOf('segment')}, inits ${originOf('init')}, manifests ${manifestFills.mpd + manifestFills.playlist + manifestFills.multivariant}).`,
    '',
    `Origin manifest fills per manifest TTL (${ttl} ms; run ${players.seconds.toFixed(1)} s = ${perTtl.toFixed(1)} TTLs):`,
    '',
    '| manifest (one variant each) | fills | fills per TTL |',
    '| --- | --- | --- |',
    fillRow('MPD', manifestFills.mpd),
    fillRow('v1 media playlist', manifestFills.playlist),
    fillRow('multivariant playlist (once per HLS player, at its start)', manifestFills.multivariant),
    '',
  );

  const verdict = (met: boolean) => (met ? 'met' : '**not met**');
  const sr = ratio('smallEdge', smallBase).median;
  const lr = ratio('largeEdge', largeBase).median;
  const mr = ratio('mpdEdge', 'tiny').median;
  const hr = ratio('hlsEdge', 'tiny').median;
  const mp = ratio('mpdEdge', 'tiny', (x) => x.p99).median;
  const hp = ratio('hlsEdge', 'tiny', (x) => x.p99).median;
  const cpuX = (a: Target, b: Target) => `${(cpuUs(a) / cpuUs(b)).toFixed(2)}×`;
  const maxFillsPerTtl = Math.max(manifestFills.mpd, manifestFills.playlist) / perTtl;
  lines.push(
    '### Goals (edge shield, `npm run serve`)',
    '',
    `- cached segments ≥ 80% of the trivial same-bytes Worker's req/s (the faster of its two forms): 0.5 MB ${verdict(sr >= 0.8)} (${(sr * 100).toFixed(0)}%; server CPU per request ${cpuX('smallEdge', smallBase)} the trivial Worker's), 2 MB ${verdict(lr >= 0.8)} (${(lr * 100).toFixed(0)}%; CPU ${cpuX('largeEdge', largeBase)}).`,
    `- manifests ≥ 60% of the trivial tiny-body Worker's req/s: MPD ${verdict(mr >= 0.6)} (${(mr * 100).toFixed(0)}%; CPU per request ${cpuX('mpdEdge', 'tiny')} the trivial Worker's), HLS ${verdict(hr >= 0.6)} (${(hr * 100).toFixed(0)}%; CPU ${cpuX('hlsEdge', 'tiny')}); p99 within 1.5× of its p99: MPD ${verdict(mp <= 1.5)} (${mp.toFixed(2)}×), HLS ${verdict(hp <= 1.5)} (${hp.toFixed(2)}×).`,
    `- ${PLAYERS} players: one origin request per (track, K) per isolate and region ${verdict(notOne.length === 0 && ks.length > 0)} (${ks.length - notOne.length} of ${ks.length}); at most one origin manifest fill per manifest TTL ${verdict(maxFillsPerTtl <= 1 + 1 / perTtl)} (${maxFillsPerTtl.toFixed(2)} per TTL at most).`,
    `- \`wrangler dev\`'s proxy, for comparison: the same cached 0.5 MB GETs at ${pctRange(ratio('smallDev', 'smallEdge'))} of \`npm run serve\`'s rate, MPD at ${pctRange(ratio('mpdDev', 'mpdEdge'))}.`,
    '',
    'One run of one machine: how the figures move with its load, where the time goes and what was tried is in docs/operations.md, "Edge shield performance".',
    '',
  );
} finally {
  publishing = false;
  await publisher.catch(() => undefined);
  await Promise.all([nginx.stop(), dev.stop(), serve.stop()]);
}
console.log(lines.join('\n'));
