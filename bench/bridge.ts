/**
 * Encoder bridge benchmark: real-time factor and CPU of the `local` ladder for one and two
 * pipelines, beside bare ffmpeg running the same ladder arguments, in the same script.
 *
 * A 30 s contribution feed (the synthetic source, UTC-stamped) is made once. Then, as fast as the
 * machine allows:
 *  - bare ffmpeg: the bridge's exact ffmpeg arguments, reading the file, outputs to /dev/null;
 *  - bridge: the feed pushed over HTTP into a real bridge process, which runs ffmpeg, regroups
 *    the fragments into epoch segments and PUTs them to a local sink.
 * Real-time factor = media seconds / wall seconds (≥ 1 means it holds real time); CPU is measured
 * from the reaped process tree (node + ffmpeg). Two pipelines run concurrently.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localLadder } from '../contract/ladder.ts';
import { DEFAULT_FEED_TOKEN } from '../encoder-bridge/config.ts';
import { buildFfmpegArgs } from '../encoder-bridge/ffmpeg-args.ts';
import { planTiming } from '../encoder-bridge/timing-plan.ts';
import { firstPts, videoFrameGrid, videoPtsValues } from '../encoder-bridge/ts-timestamps.ts';
import { sourceArgs } from '../encoder-bridge/synthetic-source.ts';
import { freePort } from '../test/wrangler-dev.ts';
import { childCpuSeconds, median } from './cpu.ts';

const MEDIA_SECONDS = 30;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
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

async function bareFfmpeg(feed: string): Promise<void> {
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

async function bridgeRun(feed: string, sinkUrl: string, pipeline: string): Promise<void> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      'encoder-bridge/main.ts',
      '--event',
      'bench',
      '--pipeline',
      pipeline,
      '--listen-port',
      String(port),
      '--ingest-url',
      sinkUrl,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  while (!out.includes('listening')) await new Promise((r) => setTimeout(r, 50));
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
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function measure(
  label: string,
  pipelines: number,
  job: () => Promise<void>,
): Promise<{ label: string; pipelines: number; rtf: number; cpu: number }[]> {
  const results: { rtf: number; cpu: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const cpu0 = childCpuSeconds();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: pipelines }, job));
    const wall = (performance.now() - t0) / 1000;
    results.push({ rtf: MEDIA_SECONDS / wall, cpu: (childCpuSeconds() - cpu0) / pipelines });
  }
  return [{ label, pipelines, rtf: median(results.map((r) => r.rtf)), cpu: median(results.map((r) => r.cpu)) }];
}

const dir = await mkdtemp(join(tmpdir(), 'bench-bridge-'));
const feed = await makeFeed(dir);
const sink = await startSink();
let n = 0;
const rows = [
  ...(await measure('bare ffmpeg (same args)', 1, () => bareFfmpeg(feed))),
  ...(await measure('bridge', 1, () => bridgeRun(feed, sink.url, 'A'))),
  ...(await measure('bare ffmpeg (same args)', 2, () => bareFfmpeg(feed))),
  ...(await measure('bridge', 2, () => bridgeRun(feed, sink.url, String.fromCharCode(65 + (n++ % 2))))),
];
sink.close();

const bare1 = rows[0];
const bridge1 = rows[1];
console.log(
  `## Encoder bridge: \`local\` ladder (3 AVC rungs 540p/360p/234p + AAC-LC), ${MEDIA_SECONDS} s of 960x540p30 feed, median of ${RUNS} runs\n`,
);
console.log('| what | pipelines | real-time factor (each) | CPU s per pipeline | CPU vs bare ffmpeg |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows) {
  const bare = rows.find((b) => b.label.startsWith('bare') && b.pipelines === r.pipelines)!;
  console.log(
    `| ${r.label} | ${r.pipelines} | ${r.rtf.toFixed(2)}× | ${r.cpu.toFixed(1)} | ${((r.cpu / bare.cpu - 1) * 100).toFixed(1)}% |`,
  );
}
console.log(
  `\nBridge CPU overhead over bare ffmpeg (one pipeline): ${((bridge1.cpu / bare1.cpu - 1) * 100).toFixed(1)}% (goal < 5%). ` +
    `Two pipelines ${rows[3].rtf >= 1 ? 'hold' : 'do NOT hold'} real time on this machine (each at ${rows[3].rtf.toFixed(2)}× with both running).`,
);
console.log(
  `Segments received by the sink across bridge runs: ${sink.count()} (each bridge cross-publishes every segment to regions r1 and r2, its default: two PUTs per segment).\n`,
);
