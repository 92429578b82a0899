/**
 * Encoder bridge benchmark: real-time factor and CPU of the `local` ladder for one and two
 * pipelines, beside bare ffmpeg running the same ladder arguments, in the same script.
 *
 * A 90 s contribution feed (the synthetic source, UTC-stamped) is made once and re-stamped to the
 * current second before each round (the bridge refuses a feed whose UTC is far from its clock).
 * Then, as fast as the machine allows, in rounds that alternate the two (so a change in the
 * machine's load touches both):
 *  - bare ffmpeg: the bridge's exact ffmpeg arguments (same encodes, same per-frame fMP4 muxing,
 *    same probes), the feed written to its stdin by this script, outputs to /dev/null;
 *  - bridge: the feed pushed over HTTP into a real bridge process, which runs ffmpeg, regroups
 *    the fragments into epoch segments and PUTs them to a local sink (two regions).
 * Both are fed by the same writer; the CPU of the process tree under test is noted when its ffmpeg
 * has read the feed up to media second WARM and up to MEDIA − TAIL: that window is the **steady
 * state**, what each further second of a live event costs once everything is warm.
 * Real-time factor = media seconds / wall seconds (≥ 1 means it holds real time); whole-run CPU is
 * measured from the reaped process tree (node + ffmpeg), and for the bridge split into its start
 * (up to listening), its ffmpeg child (the bridge's reaped children, read just before it is
 * stopped) and the Node process (the rest). Two pipelines run concurrently.
 *
 * BENCH_RUNS (rounds, default 3), BENCH_MEDIA_SECONDS (default 90), BENCH_WARM_SECONDS (default
 * 30), BENCH_ROWS (comma list of row keys to run, default all: bare1,bridge1,bridgeParts1,bare2,
 * bridge2); BENCH_CPU_PROF=<dir> runs the bridge under `node --cpu-prof` into that directory
 * (profiling, not for figures); BENCH_BRIDGE_MAIN=<path> runs another bridge entry point (a copy
 * of an older tree, to compare two versions: add `bridgeBase1` to BENCH_ROWS).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { localLadder } from '../contract/ladder.ts';
import { DEFAULT_FEED_TOKEN } from '../encoder-bridge/config.ts';
import { buildFfmpegArgs } from '../encoder-bridge/ffmpeg-args.ts';
import { restampTs } from '../encoder-bridge/sei-utc-restamp.ts';
import { sourceArgs } from '../encoder-bridge/synthetic-source.ts';
import { planTiming } from '../encoder-bridge/timing-plan.ts';
import { firstPts, videoFrameGrid, videoPtsValues } from '../encoder-bridge/ts-timestamps.ts';
import { freePort } from '../test/wrangler-dev.ts';
import { childCpuSeconds, median } from './cpu.ts';
import { bytesRead, cpuOf, descendants, ownAndChildrenCpu } from './proc-cpu.ts';

const MEDIA_SECONDS = Number(process.env.BENCH_MEDIA_SECONDS ?? 90);
const WARM_SECONDS = Number(process.env.BENCH_WARM_SECONDS ?? Math.min(30, MEDIA_SECONDS / 3));
/** The window ends this long before the end of the feed: the last bytes are still in buffers then. */
const TAIL_SECONDS = Math.min(10, MEDIA_SECONDS / 6);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CPU_PROF = process.env.BENCH_CPU_PROF;
const BRIDGE_MAIN = 'encoder-bridge/main.ts';
const BASE_MAIN = process.env.BENCH_BRIDGE_MAIN;
const ROWS = (process.env.BENCH_ROWS ?? 'bare1,bridge1,bridgeParts1,bare2,bridge2').split(',');
const D = 2000;
/** Bytes per write of the feed (what a file stream reads at a time). */
const WRITE_BYTES = 64 * 1024;

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

async function makeFeed(dir: string): Promise<{ bytes: Uint8Array; t0: number }> {
  const file = join(dir, 'feed.ts');
  const t0 = Math.floor(Date.now() / 1000);
  const args = sourceArgs({ t0, fps: '30', size: '960x540', push: [file], durationSeconds: MEDIA_SECONDS }).filter(
    (a) => a !== '-re',
  );
  await run('ffmpeg', ['-y', ...args]);
  return { bytes: new Uint8Array(await readFile(file)), t0 };
}

/** The feed stamped as if it had started on the current whole second (its grid offset kept). */
function freshFeed(feed: { bytes: Uint8Array; t0: number }): Uint8Array {
  return restampTs(feed.bytes, (Math.floor(Date.now() / 1000) - feed.t0) * 90_000);
}

/** CPU seconds of the process tree under test at the two marks of the steady-state window. */
interface Window {
  warm: number;
  end: number;
}

/** Writes the feed in WRITE_BYTES pieces, waiting for 'drain'. */
async function writeFeed(out: Writable, bytes: Uint8Array): Promise<void> {
  for (let p = 0; p < bytes.length; p += WRITE_BYTES) {
    if (!out.write(bytes.subarray(p, Math.min(bytes.length, p + WRITE_BYTES)))) {
      await new Promise((r) => out.once('drain', r));
    }
  }
  out.end();
}

/**
 * Reads `cpu()` when the encoding ffmpeg has read the feed up to media second WARM and up to
 * MEDIA − TAIL (its rchar, polled every 20 ms): the same media positions in a bare run and in a
 * bridge run. Marking by what the writer has sent would not do: loopback TCP buffers take many
 * megabytes of a feed pushed faster than ffmpeg encodes it.
 */
function watchWindow(feedBytes: number, ffmpegPid: () => number | undefined, cpu: () => number) {
  const marks = [WARM_SECONDS, MEDIA_SECONDS - TAIL_SECONDS].map((s) => (feedBytes * s) / MEDIA_SECONDS);
  const at: number[] = [];
  let stopped = false;
  const done = (async () => {
    let pid: number | undefined;
    while (!stopped && at.length < marks.length) {
      pid ??= ffmpegPid();
      const read = pid === undefined ? undefined : bytesRead(pid);
      if (read !== undefined && read >= marks[at.length]) at.push(cpu());
      else await new Promise((r) => setTimeout(r, pid === undefined ? 100 : 20));
    }
    return { warm: at[0] ?? Number.NaN, end: at[1] ?? Number.NaN };
  })();
  return { done, stop: () => (stopped = true) };
}

async function bareFfmpeg(bytes: Uint8Array): Promise<RunCpu> {
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
  const outArgs = args.map((a) => (a !== 'pipe:0' && /^pipe:\d+$/.test(a) ? '/dev/null' : a));
  const child = spawn('ffmpeg', ['-y', ...outArgs], { stdio: ['pipe', 'ignore', 'pipe'] });
  const exited = exitOf(child, 'ffmpeg');
  child.stdin!.on('error', () => {}); // ffmpeg failing is reported by its exit
  const watch = watchWindow(
    bytes.length,
    () => child.pid,
    () => cpuOf([child.pid!]),
  );
  await writeFeed(child.stdin!, bytes);
  await exited;
  watch.stop();
  return { window: await watch.done };
}

function exitOf(child: ChildProcess, what: string): Promise<void> {
  let err = '';
  child.stderr?.on('data', (d) => (err = (err + d).slice(-4000)));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${what} exited ${code}: ${err}`)))),
  );
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

/** CPU seconds of one run: the steady-state window; a bridge's start (Node up to listening, with its `ffmpeg -encoders` check) and its encoding ffmpeg. */
interface RunCpu {
  window: Window;
  start?: number;
  ffmpeg?: number;
  /** The bridge's Node process alone over the window. */
  nodeWindow?: Window;
}

/** One bridge run over the whole feed. */
async function bridgeRun(
  bytes: Uint8Array,
  sinkUrl: string,
  pipeline: string,
  partMs = 0,
  main = BRIDGE_MAIN,
): Promise<RunCpu> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      ...(CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : []),
      main,
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
  // The bridge's Node process and its running ffmpeg (its only child while a feed runs).
  const node: number[] = [];
  const watch = watchWindow(
    bytes.length,
    () => descendants(child.pid!).find((p) => p.comm === 'ffmpeg')?.pid,
    () => {
      const own = ownAndChildrenCpu(child.pid!)?.own ?? Number.NaN;
      node.push(own);
      return own + descendants(child.pid!).reduce((s, p) => s + p.cpu, 0);
    },
  );
  await new Promise<void>((resolve, reject) => {
    // The bridge's default feed token (it reads BRIDGE_FEED_TOKEN, as we do).
    const headers = { authorization: `Bearer ${process.env.BRIDGE_FEED_TOKEN ?? DEFAULT_FEED_TOKEN}` };
    const req = http.request({ host: '127.0.0.1', port, path: '/feed', method: 'PUT', headers }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    void writeFeed(req, bytes);
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
  watch.stop();
  return {
    window: await watch.done,
    start: started.own + started.children,
    ffmpeg: ffmpegCpu,
    nodeWindow: { warm: node[0], end: node[1] },
  };
}

interface Sample {
  rtf: number;
  /** Whole run, per pipeline. */
  cpu: number;
  /** Steady state, per pipeline: CPU seconds per media second over the window. */
  steady: number;
  /** Bridge runs (per pipeline): the encoding ffmpeg's CPU, the bridge's start, its Node process per media second over the window. */
  ffmpeg?: number;
  start?: number;
  nodeSteady?: number;
}

const WINDOW_MEDIA_SECONDS = MEDIA_SECONDS - TAIL_SECONDS - WARM_SECONDS;
const perMediaSecond = (w: Window) => (w.end - w.warm) / WINDOW_MEDIA_SECONDS;

/** One round: `pipelines` concurrent runs of `job`; CPU per pipeline. */
async function round(pipelines: number, job: (i: number) => Promise<RunCpu>): Promise<Sample> {
  const cpu0 = childCpuSeconds();
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: pipelines }, (_, i) => job(i)));
  const wall = (performance.now() - t0) / 1000;
  const mean = (f: (r: RunCpu) => number | undefined) => {
    const xs = results.map(f);
    return xs.some((x) => x === undefined) ? undefined : xs.reduce((a, b) => a! + b!, 0)! / xs.length;
  };
  return {
    rtf: MEDIA_SECONDS / wall,
    cpu: (childCpuSeconds() - cpu0) / pipelines,
    steady: mean((r) => perMediaSecond(r.window))!,
    ffmpeg: mean((r) => r.ffmpeg),
    start: mean((r) => r.start),
    nodeSteady: mean((r) => r.nodeWindow && perMediaSecond(r.nodeWindow)),
  };
}

const dir = await mkdtemp(join(tmpdir(), 'bench-bridge-'));
const feed = await makeFeed(dir);
const sink = await startSink();
const loadBefore = loadavg()[0];
const samples: Record<string, Sample[]> = {};
const rounds: [string, number, (bytes: Uint8Array, p: number) => Promise<RunCpu>][] = [
  ['bare1', 1, (b) => bareFfmpeg(b)],
  ['bridge1', 1, (b) => bridgeRun(b, sink.url, 'A')],
  ['bridgeBase1', 1, (b) => bridgeRun(b, sink.url, 'A', 0, BASE_MAIN)],
  ['bridgeParts1', 1, (b) => bridgeRun(b, sink.url, 'A', 500)],
];
const rounds2: typeof rounds = [
  ['bare2', 2, (b) => bareFfmpeg(b)],
  ['bridge2', 2, (b, p) => bridgeRun(b, sink.url, String.fromCharCode(65 + p))],
];
for (const group of [rounds, rounds2]) {
  for (let i = 0; i < RUNS; i++) {
    for (const [key, pipelines, job] of group) {
      if (!ROWS.includes(key)) continue;
      const bytes = freshFeed(feed);
      (samples[key] ??= []).push(await round(pipelines, (p) => job(bytes, p)));
    }
  }
}
const loadAfter = loadavg()[0];
sink.close();

const med = (xs: Sample[], f: (s: Sample) => number | undefined) => median(xs.map((s) => f(s) ?? Number.NaN));
/** Each round's bridge against the bare run of the same round: the median of the paired ratios. */
const overhead = (bridge: Sample[], bare: Sample[], f: (s: Sample) => number, g: (s: Sample) => number = f) =>
  median(bridge.map((b, i) => f(b) / g(bare[i]) - 1));
const afterStart = (s: Sample) => s.cpu - (s.start ?? 0);
const whole = (s: Sample) => s.cpu;
const steady = (s: Sample) => s.steady;
const percent = (x: number) => `${(x * 100).toFixed(1)}%`;
const bareOf = (key: string) => samples[key.endsWith('2') ? 'bare2' : 'bare1'];

console.log(
  `## Encoder bridge: \`local\` ladder (3 AVC rungs 540p/360p/234p + AAC-LC), ${MEDIA_SECONDS} s of 960x540p30 feed, medians of ${RUNS} rounds\n`,
);
console.log(
  'Compared: **bare ffmpeg** runs the exact command line the bridge runs (same filter graph with its trim and showinfo probes, ' +
    'same three x264 encodes and AAC, same fMP4 muxing), reading the feed on stdin and writing its four outputs to /dev/null. ' +
    'The **bridge** is the real bridge process (`node encoder-bridge/main.ts`, default options: whole segments, two regions; one row adds `--part-duration-ms 500`, parts to the home region as the bridges of a low-latency event publish them) taking the same feed over HTTP `PUT /feed` as fast as it can, ' +
    'running that ffmpeg on pipes, regrouping its fragments into epoch segments (and parts) and publishing them to regions r1 and r2 of a local sink. ' +
    'CPU is user + system of the whole process tree. ' +
    `**Steady state** is CPU per second of media between media second ${WARM_SECONDS} and ${MEDIA_SECONDS - TAIL_SECONDS} of the feed (read from /proc when the encoding ffmpeg has read the feed up to each point, the same way for both): what every further second of a live event costs once warm. ` +
    `**Whole run** is the reaped process tree over all ${MEDIA_SECONDS} s; the bridge's is split into its start (Node loading its modules and checking \`ffmpeg -encoders\`, up to listening: once per bridge process, not per feed), ` +
    'the encoding ffmpeg, and the Node process after the start (warm-up included). Bare and bridge alternate round by round; overheads are the median of the paired ratios.\n',
);
console.log(
  '| what | pipelines | real-time factor (each) | steady state: CPU s per media s | Node per media s | steady state vs bare | whole run: CPU s per pipeline | bridge start | encoding ffmpeg | Node after start | whole run vs bare | whole run without the start |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const [label, key, pipelines] of [
  ['bare ffmpeg (same args)', 'bare1', 1],
  ['bridge', 'bridge1', 1],
  ['bridge (BENCH_BRIDGE_MAIN)', 'bridgeBase1', 1],
  ['bridge, 500 ms parts (a low-latency event)', 'bridgeParts1', 1],
  ['bare ffmpeg (same args)', 'bare2', 2],
  ['bridge', 'bridge2', 2],
] as const) {
  const xs = samples[key];
  if (!xs) continue;
  const bare = bareOf(key);
  const isBridge = key.startsWith('bridge');
  const steadyCells =
    isBridge && bare ? [med(xs, (s) => s.nodeSteady).toFixed(3), percent(overhead(xs, bare, steady))] : ['—', '—'];
  const wholeCells =
    isBridge && bare
      ? [
          med(xs, (s) => s.start).toFixed(2),
          med(xs, (s) => s.ffmpeg).toFixed(2),
          med(xs, (s) => afterStart(s) - (s.ffmpeg ?? 0)).toFixed(2),
          percent(overhead(xs, bare, whole)),
          percent(overhead(xs, bare, afterStart, whole)),
        ]
      : ['—', '—', '—', '—', '—'];
  console.log(
    `| ${label} | ${pipelines} | ${med(xs, (s) => s.rtf).toFixed(2)}× | ${med(xs, steady).toFixed(3)} | ${steadyCells.join(' | ')} | ${med(xs, whole).toFixed(2)} | ${wholeCells.join(' | ')} |`,
  );
}
const lines: string[] = [];
if (samples.bridge1 && samples.bare1) {
  const b = samples.bridge1;
  const bare = samples.bare1;
  lines.push(
    `Bridge CPU overhead over bare ffmpeg, one pipeline: **${percent(overhead(b, bare, steady))} in the steady state** (target ≤ 10%, goal ≤ 5%); ` +
      `over the whole ${MEDIA_SECONDS} s run ${percent(overhead(b, bare, afterStart, whole))} after the start (warm-up included) and ${percent(overhead(b, bare, whole))} with the start counted. ` +
      `Its encoding ffmpeg alone ${percent(med(b, (s) => s.ffmpeg) / med(bare, whole) - 1)} over bare ffmpeg.` +
      (samples.bridgeParts1
        ? ` With 500 ms parts: ${percent(overhead(samples.bridgeParts1, bare, steady))} in the steady state, ${percent(overhead(samples.bridgeParts1, bare, afterStart, whole))} over the whole run after the start.`
        : ''),
  );
}
if (samples.bridge2)
  lines.push(
    `Two pipelines ${med(samples.bridge2, (s) => s.rtf) >= 1 ? 'hold' : 'do NOT hold'} real time on this machine (each at ${med(samples.bridge2, (s) => s.rtf).toFixed(2)}× with both running).`,
  );
lines.push(
  `Uploads received by the sink across bridge runs: ${sink.count()} (parts and segments, each to regions r1 and r2). ` +
    `Load average (1 min) ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after.\n`,
);
console.log(`\n${lines.join(' ')}`);
