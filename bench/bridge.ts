/**
 * Encoder bridge benchmark: real-time factor and CPU of the `local` ladder for one and two
 * pipelines, beside bare ffmpeg running the same ladder arguments, in the same script.
 *
 * A 30 s contribution feed (the synthetic source, UTC-stamped) is made once. Then, as fast as the
 * machine allows, in rounds that alternate the two (so a change in the machine's load touches both):
 *  - bare ffmpeg: the bridge's exact ffmpeg arguments (same encodes, same per-frame fMP4 muxing,
 *    same probes), reading the file, outputs to /dev/null;
 *  - bridge: the feed pushed over HTTP into a real bridge process, which runs ffmpeg, regroups
 *    the fragments into epoch segments and PUTs them to a local sink (two regions).
 * Real-time factor = media seconds / wall seconds (≥ 1 means it holds real time); CPU is measured
 * from the reaped process tree (node + ffmpeg), and for the bridge split into its ffmpeg child
 * (the bridge's reaped children, read just before it is stopped) and the Node process (the rest).
 * Two pipelines run concurrently.
 *
 * BENCH_RUNS (rounds, default 5), BENCH_MEDIA_SECONDS (default 30); BENCH_CPU_PROF=<dir> runs
 * the bridge under `node --cpu-prof` into that directory (profiling, not for figures).
 */
import { spawn } from 'node:child_process';
import { appendFileSync, createReadStream } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { localLadder } from '../contract/ladder.ts';
import { DEFAULT_FEED_TOKEN } from '../encoder-bridge/config.ts';
import { buildFfmpegArgs } from '../encoder-bridge/ffmpeg-args.ts';
import { planTiming } from '../encoder-bridge/timing-plan.ts';
import { firstPts, videoFrameGrid, videoPtsValues } from '../encoder-bridge/ts-timestamps.ts';
import { sourceArgs } from '../encoder-bridge/synthetic-source.ts';
import { freePort } from '../test/wrangler-dev.ts';
import { childCpuSeconds, median } from './cpu.ts';
import { ownAndChildrenCpu } from './proc-cpu.ts';

const MEDIA_SECONDS = Number(process.env.BENCH_MEDIA_SECONDS ?? 30);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CPU_PROF = process.env.BENCH_CPU_PROF;
const D = 2000;

function run(cmd: string, args: string[], opts: { stdin?: string } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [opts.stdin ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
    if (opts.stdin) createReadStream(opts.stdin).pipe(child.stdin!);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

async function makeFeed(dir: string): Promise<string> {
  const file = join(dir, 'feed.ts');
  const t0 = Math.floor(Date.now() / 1000);
  const args = sourceArgs({ t0, fps: '30', size: '960x540', push: [file], durationSeconds: MEDIA_SECONDS }).filter(
    (a) => a !== '-re',
  );
  await run('ffmpeg', ['-y', ...args]);
  return file;
}

async function bareFfmpeg(feed: string): Promise<undefined> {
  const bytes = new Uint8Array(await readFile(feed));
  const head = bytes.subarray(0, 188 * 4000);
  const grid = videoFrameGrid(videoPtsValues(head).slice(0, 16));
  const plan = planTiming({
    firstPts33: firstPts(head)!,
    nowMs: Date.now(),
    segmentDurationMs: D,
    audioSampleRate: 48_000,
    videoGrid: grid && { pts33: grid.pts, frameTicks: grid.frameTicks },
  });
  const { args } = buildFfmpegArgs(localLadder, plan, D);
  const fileArgs = args.map((a) => (a === 'pipe:0' ? feed : /^pipe:\d+$/.test(a) ? '/dev/null' : a));
  await run('ffmpeg', ['-y', ...fileArgs]);
  return undefined;
}

/** A sink that accepts ingest PUTs and counts segments. */
async function startSink(): Promise<{ url: string; count: () => number; close: () => void }> {
  let n = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      // The bridge names the region in the query (?region=r1): count by path.
      if (new URL(req.url ?? '/', 'http://sink').pathname.endsWith('.m4s')) n++;
      res.writeHead(201).end();
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}`, count: () => n, close: () => server.close() };
}

/** CPU seconds of one bridge run: its start (Node up to listening, with its `ffmpeg -encoders` check) and the encoding ffmpeg. */
interface BridgeCpu {
  start: number;
  ffmpeg: number;
}

/** One bridge run over the whole feed. */
async function bridgeRun(feed: string, sinkUrl: string, pipeline: string, partMs = 0): Promise<BridgeCpu> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      ...(CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : []),
      'encoder-bridge/main.ts',
      '--event',
      'bench',
      '--pipeline',
      pipeline,
      '--listen-port',
      String(port),
      '--ingest-url',
      sinkUrl,
      '--part-duration-ms',
      String(partMs),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  while (!out.includes('listening')) await new Promise((r) => setTimeout(r, 50));
  const started = ownAndChildrenCpu(child.pid!) ?? { own: Number.NaN, children: Number.NaN };
  await new Promise<void>((resolve, reject) => {
    // The bridge's default feed token (it reads BRIDGE_FEED_TOKEN, as we do).
    const headers = { authorization: `Bearer ${process.env.BRIDGE_FEED_TOKEN ?? DEFAULT_FEED_TOKEN}` };
    const req = http.request({ host: '127.0.0.1', port, path: '/feed', method: 'PUT', headers }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    createReadStream(feed).pipe(req);
  });
  // The feed has ended; the bridge lets ffmpeg flush, then we stop the bridge.
  while (!out.includes('ffmpeg finished')) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300)); // last PUTs
  // The bridge has reaped its ffmpeg ('ffmpeg finished' is logged from its exit event).
  const ffmpegCpu = (ownAndChildrenCpu(child.pid!)?.children ?? Number.NaN) - started.children;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(CPU_PROF ? 'SIGINT' : 'SIGTERM');
  await exited;
  if (process.env.BENCH_BRIDGE_LOG) appendFileSync(process.env.BENCH_BRIDGE_LOG, out);
  return { start: started.own + started.children, ffmpeg: ffmpegCpu };
}

interface Sample {
  rtf: number;
  cpu: number;
  /** Bridge runs (per pipeline): the encoding ffmpeg's CPU and the bridge's start. */
  ffmpeg?: number;
  start?: number;
}

/** One round: `pipelines` concurrent runs of `job`; CPU per pipeline. */
async function round(pipelines: number, job: (i: number) => Promise<BridgeCpu | undefined>): Promise<Sample> {
  const cpu0 = childCpuSeconds();
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: pipelines }, (_, i) => job(i)));
  const wall = (performance.now() - t0) / 1000;
  const bridge = results.filter((r) => r !== undefined);
  const mean = (f: (b: BridgeCpu) => number) =>
    bridge.length ? bridge.reduce((a, b) => a + f(b), 0) / bridge.length : undefined;
  return {
    rtf: MEDIA_SECONDS / wall,
    cpu: (childCpuSeconds() - cpu0) / pipelines,
    ffmpeg: mean((b) => b.ffmpeg),
    start: mean((b) => b.start),
  };
}

const dir = await mkdtemp(join(tmpdir(), 'bench-bridge-'));
const feed = await makeFeed(dir);
const sink = await startSink();
const loadBefore = loadavg()[0];
const samples: Record<string, Sample[]> = { bare1: [], bridge1: [], bridgeParts1: [], bare2: [], bridge2: [] };
for (let i = 0; i < RUNS; i++) {
  samples.bare1.push(await round(1, () => bareFfmpeg(feed)));
  samples.bridge1.push(await round(1, () => bridgeRun(feed, sink.url, 'A')));
  samples.bridgeParts1.push(await round(1, () => bridgeRun(feed, sink.url, 'A', 500)));
}
for (let i = 0; i < RUNS; i++) {
  samples.bare2.push(await round(2, () => bareFfmpeg(feed)));
  samples.bridge2.push(await round(2, (p) => bridgeRun(feed, sink.url, String.fromCharCode(65 + p))));
}
const loadAfter = loadavg()[0];
sink.close();

const med = (xs: Sample[], f: (s: Sample) => number | undefined) => median(xs.map((s) => f(s) ?? Number.NaN));
/** Each round's bridge against the bare run just before it: the median of the paired ratios. */
const overhead = (bridge: Sample[], bare: Sample[], f: (s: Sample) => number = (s) => s.cpu) =>
  median(bridge.map((b, i) => f(b) / bare[i].cpu - 1));
const afterStart = (s: Sample) => s.cpu - (s.start ?? 0);
const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

console.log(
  `## Encoder bridge: \`local\` ladder (3 AVC rungs 540p/360p/234p + AAC-LC), ${MEDIA_SECONDS} s of 960x540p30 feed, medians of ${RUNS} rounds\n`,
);
console.log(
  'Compared: **bare ffmpeg** runs the exact command line the bridge runs (same filter graph with its trim and showinfo probes, ' +
    'same three x264 encodes and AAC, same per-frame fMP4 muxing: `frag_every_frame`, `flush_packets 1`), reading the feed from a file and writing its four outputs to /dev/null. ' +
    'The **bridge** is the real bridge process (`node encoder-bridge/main.ts`, default options: whole segments, two regions; one row adds `--part-duration-ms 500`, parts to the home region as the bridges of a low-latency event publish them) taking the same feed over HTTP `PUT /feed` as fast as it can, ' +
    'running that ffmpeg on pipes, regrouping the per-frame fragments into epoch segments (and parts) and publishing them to regions r1 and r2 of a local sink. ' +
    "CPU is user + system of the whole process tree; the bridge's is split into its start (Node loading its modules and checking `ffmpeg -encoders`, up to listening: once per bridge process, not per feed), " +
    'the encoding ffmpeg, and the Node process after the start. Bare and bridge alternate round by round; overheads are the median of the paired ratios.\n',
);
console.log(
  '| what | pipelines | real-time factor (each) | CPU s per pipeline | bridge start | encoding ffmpeg | Node after start | CPU vs bare ffmpeg | without the start |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const [label, key, pipelines] of [
  ['bare ffmpeg (same args)', 'bare1', 1],
  ['bridge', 'bridge1', 1],
  ['bridge, 500 ms parts (a low-latency event)', 'bridgeParts1', 1],
  ['bare ffmpeg (same args)', 'bare2', 2],
  ['bridge', 'bridge2', 2],
] as const) {
  const xs = samples[key];
  const bare = samples[key.replace('bridgeParts', 'bare').replace('bridge', 'bare')];
  const cells = key.startsWith('bridge')
    ? [
        med(xs, (s) => s.start).toFixed(2),
        med(xs, (s) => s.ffmpeg).toFixed(2),
        med(xs, (s) => afterStart(s) - (s.ffmpeg ?? 0)).toFixed(2),
        percent(overhead(xs, bare)),
        percent(overhead(xs, bare, afterStart)),
      ]
    : ['—', '—', '—', '—', '—'];
  console.log(
    `| ${label} | ${pipelines} | ${med(xs, (s) => s.rtf).toFixed(2)}× | ${med(xs, (s) => s.cpu).toFixed(2)} | ${cells.join(' | ')} |`,
  );
}
const bare1 = med(samples.bare1, (s) => s.cpu);
console.log(
  `\nBridge CPU overhead over bare ffmpeg, one pipeline: **${percent(overhead(samples.bridge1, samples.bare1))}** with the bridge's start counted against ${MEDIA_SECONDS} s of media, ` +
    `**${percent(overhead(samples.bridge1, samples.bare1, afterStart))}** after the start (what each further second of feed costs; target ≤ 10%, goal ≤ 5%). ` +
    `Its encoding ffmpeg alone ${percent(med(samples.bridge1, (s) => s.ffmpeg) / bare1 - 1)} over bare ffmpeg. ` +
    `With 500 ms parts: ${percent(overhead(samples.bridgeParts1, samples.bare1, afterStart))} after the start. ` +
    `Two pipelines ${med(samples.bridge2, (s) => s.rtf) >= 1 ? 'hold' : 'do NOT hold'} real time on this machine (each at ${med(samples.bridge2, (s) => s.rtf).toFixed(2)}× with both running).`,
);
console.log(
  `Uploads received by the sink across bridge runs: ${sink.count()} (parts and segments, each to regions r1 and r2). ` +
    `Load average (1 min) ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after.\n`,
);
