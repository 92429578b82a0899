/**
 * `npm run soak -- --minutes 60`: the full local pipeline for N minutes with simulated players, to
 * show that nothing grows and nothing is lost over a long event.
 *
 * Runs what `npm start` runs — `wrangler dev` (fresh state), two encoder bridges A and B (B 3 s
 * later) cross-publishing to r1 and r2, the synthetic source with CEA-608 captions pushing to both,
 * and the Spanish captioner — through the test harness (test/wrangler-dev.ts, test/live-event.ts),
 * then 50 players (scripts/soak/players.ts: half DASH, half HLS) that follow the live edge of one
 * video and one audio track. Every minute and at the end it reports the RSS of every process
 * (scripts/soak/process-memory.ts), segments published (bridge /status), served and lost
 * (players), K gaps and player errors; the end report goes to .tmp/soak-<time>.{json,md} with a
 * table for BENCHMARKS.md. Goal: memory flat after warm-up, 0 segments lost, 0 player errors;
 * the exit code is 1 when a goal is missed.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { startLiveEvent, waitFor } from '../test/live-event.ts';
import { startWranglerDev } from '../test/wrangler-dev.ts';
import { type MemorySample, memoryTrends } from './soak/memory-trend.ts';
import { errorTotal, lostTotal, type PlayerCounters, PlayerStats, SimulatedPlayer } from './soak/players.ts';
import { type LabelHint, sampleMemory } from './soak/process-memory.ts';
import { startServe } from './serve.ts';
import { ensureSystemPackages } from './system-packages.ts';

const D = 2000;
/** The event's default pipelineDelayMs (contract/event-config.ts): a segment is due at (K+1)·D + this. */
const PIPELINE_DELAY_MS = 1500;

const Options = z.object({
  minutes: z.coerce
    .number()
    .positive()
    .max(24 * 60),
  players: z.coerce.number().int().min(0).max(1000),
  /** Share of the players that are HLS (the rest DASH). */
  hlsShare: z.coerce.number().min(0).max(1),
  pipelines: z.string().regex(/^[A-Z](,[A-Z])*$/),
  ladder: z.string(),
  pollMs: z.coerce.number().int().min(100),
  timeoutMs: z.coerce.number().int().min(500),
  sampleSeconds: z.coerce.number().min(1),
  warmupMinutes: z.coerce.number().min(0).optional(),
  captions: z.enum(['on', 'off']),
  hlsSkip: z.enum(['on', 'off']),
  snapshot: z.enum(['on', 'off']),
  worker: z.enum(['dev', 'serve']),
  out: z.string(),
});

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    players: { type: 'string', default: '50' },
    'hls-share': { type: 'string', default: '0.5' },
    pipelines: { type: 'string', default: 'A,B' },
    ladder: { type: 'string', default: 'local' },
    'poll-ms': { type: 'string', default: String(D / 2) },
    'timeout-ms': { type: 'string', default: String(3 * D) },
    'sample-seconds': { type: 'string', default: '10' },
    'warmup-minutes': { type: 'string' },
    captions: { type: 'string', default: 'on' },
    'hls-skip': { type: 'string', default: 'on' },
    /** on: the Worker runs from a copy of the working tree taken at start, so edits during the soak do not reload it. */
    snapshot: { type: 'string', default: 'on' },
    /** dev: `wrangler dev`, as `npm start`; serve: `npm run serve`'s workerd without wrangler's proxy (scripts/serve.ts). */
    worker: { type: 'string', default: 'dev' },
    out: { type: 'string', default: '.tmp' },
  },
});
const parsed = Options.safeParse(
  Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k.replace(/-(\w)/g, (_, c: string) => c.toUpperCase()), v]),
  ),
);
if (!parsed.success) {
  console.error(
    `invalid soak flags:\n${parsed.error.issues.map((i) => `  ${String(i.path[0])}: ${i.message}`).join('\n')}`,
  );
  process.exit(2);
}
const opts = parsed.data;
const durationMs = opts.minutes * 60_000;
// Warm-up: until caches, SQLite pages and the DVR listing have settled; a third of a short run.
const warmupMs = (opts.warmupMinutes ?? Math.min(5, opts.minutes / 3)) * 60_000;
const pipelines = opts.pipelines.split(',');
const event = `soak-${Date.now().toString(36)}`;
const startedAt = new Date();
const log = (message: string) => console.log(`${new Date().toISOString()} [soak] ${message}`);

ensureSystemPackages();
log(
  `${opts.minutes} min, ${opts.players} players, pipelines ${pipelines.join(',')}, ladder ${opts.ladder}, event ${event}`,
);

/**
 * The files git knows (tracked, and untracked but not ignored) copied to a temp dir, with
 * node_modules linked: `wrangler dev` reloads the Worker whenever a source file changes, which in
 * an hour of soak on a checkout someone works in would restart the origin objects several times.
 */
async function snapshotWorktree(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'soak-worker-'));
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    await mkdir(join(dir, dirname(file)), { recursive: true });
    await cp(file, join(dir, file)).catch(() => {}); // deleted but still listed: skip
  }
  await symlink(resolve('node_modules'), join(dir, 'node_modules'));
  return dir;
}
// `npm run serve` bundles once and watches nothing: no snapshot needed.
const workerDir = opts.snapshot === 'on' && opts.worker === 'dev' ? await snapshotWorktree() : undefined;
const dev =
  opts.worker === 'dev'
    ? await startWranglerDev({ cwd: workerDir })
    : await startServe({ port: 0, persistTo: null, logTo: 'stderr' });
/**
 * Which workerd is which: under wrangler dev the one listening on the public port is wrangler's
 * proxy and the other (with an inspector) runs the Worker and its origin objects; under serve one
 * workerd does both.
 */
const workerdHints: LabelHint[] =
  opts.worker === 'dev'
    ? [
        { argvIncludes: `entry=127.0.0.1:${new URL(dev.url).port} `, label: 'workerd (wrangler dev proxy)' },
        { argvIncludes: '--inspector-addr', label: 'workerd (Worker, origin objects)' },
      ]
    : [{ argvIncludes: 'workerd', label: 'workerd (Worker, origin objects)' }];
const memoryNow = () => sampleMemory(process.pid, workerdHints);
log(
  `${opts.worker === 'dev' ? 'wrangler dev' : 'workerd without the wrangler dev proxy (npm run serve)'} on ${dev.url} (fresh state${workerDir ? `, Worker from a snapshot of the working tree in ${workerDir}` : ''})`,
);
let live: Awaited<ReturnType<typeof startLiveEvent>> | undefined;
let captioner: ChildProcess | undefined;
const players: SimulatedPlayer[] = [];
let stopping = false;

async function stopAll(): Promise<void> {
  await Promise.all(players.map((p) => p.close()));
  captioner?.kill('SIGTERM');
  await live?.stop();
  await dev.stop();
  if (workerDir) await rm(workerDir, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    if (stopping) process.exit(130);
    stopping = true;
    log('interrupted: reporting what was measured so far');
  });

try {
  live = await startLiveEvent({
    workerUrl: dev.url,
    event,
    pipelines,
    staggerMs: 3000,
    ladder: opts.ladder,
    bridgeFlags: opts.captions === 'on' ? ['--cc1-language', 'en'] : [],
    sourceFlags: opts.captions === 'on' ? ['--cc608', 'on'] : [],
  });
  if (opts.captions === 'on') {
    captioner = spawn(
      process.execPath,
      ['encoder-bridge/synthetic-captions.ts', '--url', dev.url, '--event', event, '--post', 'es'],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  await waitFor(
    async () =>
      (await Promise.all(pipelines.map(async (p) => (await bridge(p)).publish.published >= 8))).every(Boolean),
    120_000,
    'every bridge to publish its first segments',
  );
} catch (err) {
  console.error(`${(err as Error).message}\n--- bridge and source output ---\n${live?.output() ?? ''}`);
  await stopAll();
  process.exit(1);
}
log(`every pipeline publishes; starting ${opts.players} players`);

const stats = new PlayerStats();
const kinds = { hls: 0, dash: 0 };
for (let i = 0; i < opts.players; i++) {
  // Interleaved, so both kinds are spread over the start-up ramp.
  const kind = Math.floor((i + 1) * opts.hlsShare) > Math.floor(i * opts.hlsShare) ? 'hls' : 'dash';
  kinds[kind]++;
  const player = new SimulatedPlayer({
    id: i + 1,
    kind,
    base: dev.url,
    event,
    stats,
    segmentDurationMs: D,
    pipelineDelayMs: PIPELINE_DELAY_MS,
    pollMs: opts.pollMs,
    timeoutMs: opts.timeoutMs,
    startDelayMs: (i * opts.pollMs) / Math.max(1, opts.players),
    hlsSkip: opts.hlsSkip === 'on',
  });
  players.push(player);
  player.start();
}

interface BridgeSnapshot {
  pipeline: { state: string; ffmpegRestarts: number; feedLagMs?: number };
  publish: {
    published: number;
    failed: number;
    retried: number;
    lastK?: number;
    regions: Record<string, { published: number; failed: number }>;
  };
  contribution?: { refused?: { total: number } };
}
async function bridge(pipeline: string): Promise<BridgeSnapshot> {
  const res = await fetch(`${live!.bridges[pipeline]}/status`, { signal: AbortSignal.timeout(5000) });
  return (await res.json()) as BridgeSnapshot;
}
async function bridges(): Promise<Record<string, BridgeSnapshot | { error: string }>> {
  return Object.fromEntries(
    await Promise.all(
      pipelines.map(async (p) => [p, await bridge(p).catch((err: Error) => ({ error: err.message }))] as const),
    ),
  );
}

const percentile = (xs: number[], q: number) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const mb = (kb: number) => (kb / 1024).toFixed(0);
/** `x-cache` sources as shares: how much of the audience the edge answered without the origin. */
const edgeLine = (sources: Record<string, number>) => {
  const total = Object.values(sources).reduce((a, b) => a + b, 0);
  return total === 0
    ? '-'
    : Object.entries(sources)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${Math.round((100 * n) / total)} %`)
        .join(', ');
};
/**
 * Share of the last minute in which some runnable task waited for a CPU (/proc/pressure/cpu): on a
 * shared machine the load average alone does not say whether the soak's processes were starved.
 */
function cpuPressure(): number {
  try {
    return Number(/^some .*\bavg60=([\d.]+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');

interface MinuteRow {
  minute: number;
  load: number;
  cpuPressure: number;
  rssMb: Record<string, number>;
  /** CPU used over the minute, % of one core. */
  cpuPercent: Record<string, number>;
  published: Record<string, number>;
  publishFailed: Record<string, number>;
  feedLagMs: Record<string, number | undefined>;
  players: PlayerCounters;
  fetchP50Ms: number;
  fetchP99Ms: number;
}
const samples: MemorySample[] = [];
const minutes: MinuteRow[] = [];
const t0 = Date.now();
const baseline = await bridges();
let lastPublished = Object.fromEntries(
  pipelines.map((p) => [p, (baseline[p] as BridgeSnapshot).publish?.published ?? 0]),
);
let lastFailed = Object.fromEntries(pipelines.map((p) => [p, (baseline[p] as BridgeSnapshot).publish?.failed ?? 0]));

let minuteStart: MemorySample = { t: 0, procs: memoryNow() };
/** % of one core each process used between two samples (a process that restarted: since it started). */
function cpuPercent(from: MemorySample, to: MemorySample): Record<string, number> {
  const seconds = (to.t - from.t) / 1000;
  return Object.fromEntries(
    to.procs.map((p) => {
      const before = from.procs.find((q) => q.pid === p.pid)?.cpuS ?? 0;
      return [p.label, seconds > 0 ? Math.round(((p.cpuS - before) / seconds) * 100) : 0];
    }),
  );
}

function minuteReport(minute: number, now: Record<string, BridgeSnapshot | { error: string }>): void {
  const { counters, fetchMs } = stats.rollInterval();
  const memory = samples.at(-1)?.procs ?? [];
  const cpu = samples.length > 0 ? cpuPercent(minuteStart, samples.at(-1)!) : {};
  if (samples.length > 0) minuteStart = samples.at(-1)!;
  const published = Object.fromEntries(
    pipelines.map((p) => {
      const s = now[p] as BridgeSnapshot;
      return [p, s.publish ? s.publish.published - lastPublished[p] : Number.NaN];
    }),
  );
  const publishFailed = Object.fromEntries(
    pipelines.map((p) => {
      const s = now[p] as BridgeSnapshot;
      return [p, s.publish ? s.publish.failed - lastFailed[p] : Number.NaN];
    }),
  );
  lastPublished = Object.fromEntries(
    pipelines.map((p) => [p, (now[p] as BridgeSnapshot).publish?.published ?? lastPublished[p]]),
  );
  lastFailed = Object.fromEntries(
    pipelines.map((p) => [p, (now[p] as BridgeSnapshot).publish?.failed ?? lastFailed[p]]),
  );
  const row: MinuteRow = {
    minute,
    load: loadavg()[0],
    cpuPressure: cpuPressure(),
    rssMb: Object.fromEntries(memory.map((m) => [m.label, Math.round(m.rssKb / 1024)])),
    cpuPercent: cpu,
    published,
    publishFailed,
    feedLagMs: Object.fromEntries(pipelines.map((p) => [p, (now[p] as BridgeSnapshot).pipeline?.feedLagMs])),
    players: counters,
    fetchP50Ms: percentile(fetchMs, 0.5),
    fetchP99Ms: percentile(fetchMs, 0.99),
  };
  minutes.push(row);
  log(
    `minute ${minute}: load ${row.load.toFixed(1)}, CPU pressure ${f1(row.cpuPressure)} % | published ${pipelines.map((p) => `${p} ${published[p]} (${publishFailed[p]} failed, feed lag ${row.feedLagMs[p] ?? '-'} ms)`).join(', ')} | players: ${counters.segmentsOk} segments ok, ${lostTotal(counters)} lost, ${counters.lost.gap} gaps, ${errorTotal(counters)} errors, ${counters.retried} 404 retries, ${counters.lateForPlayback} late; manifests ${counters.manifestsOk} ok | edge ${edgeLine(counters.edgeSources)} | ${f1((counters.manifestsOk + counters.manifestsFailed + counters.initsOk + counters.initsFailed + counters.segmentsOk + lostTotal(counters)) / 60)} player requests/s | fetch p50 ${row.fetchP50Ms} ms, p99 ${row.fetchP99Ms} ms`,
  );
  log(`  RSS MB (CPU %): ${memory.map((m) => `${m.label} ${mb(m.rssKb)} (${cpu[m.label] ?? '-'})`).join(' | ')}`);
}

// Sample memory every sampleSeconds; report every minute; stop after the run or on Ctrl-C.
let nextMinute = 1;
while (!stopping && Date.now() - t0 < durationMs) {
  await new Promise((r) =>
    setTimeout(r, Math.max(0, Math.min(opts.sampleSeconds * 1000, t0 + durationMs - Date.now()))),
  );
  samples.push({ t: Date.now() - t0, procs: memoryNow() });
  if (Date.now() - t0 >= nextMinute * 60_000 - 500) minuteReport(nextMinute++, await bridges());
}
const ranMs = Date.now() - t0;
await Promise.all(players.map((p) => p.close()));
samples.push({ t: ranMs, procs: memoryNow() });
const final = await bridges();
if (stats.interval.segmentsOk > 0 || errorTotal(stats.interval) > 0) minuteReport(nextMinute, final);
await stopAll();

// ---- the report ----------------------------------------------------------------------------
const trends = memoryTrends(samples, warmupMs);
const runCpu = samples.length > 1 ? cpuPercent(samples[0], samples.at(-1)!) : {};
const total = stats.total;
const lost = lostTotal(total);
/** K that no player received although later ones were, per track: holes in what the audience got. */
const holes = [...stats.served].map(([track, ks]) => {
  const sorted = [...ks].sort((a, b) => a - b);
  let missing = 0;
  for (let i = 1; i < sorted.length; i++) missing += sorted[i] - sorted[i - 1] - 1;
  return { track, first: sorted[0], last: sorted.at(-1), served: sorted.length, missing };
});
const refused = pipelines.reduce((n, p) => n + ((final[p] as BridgeSnapshot).contribution?.refused?.total ?? 0), 0);
const memoryFlat = trends.every((t) => t.flat || t.label === 'soak (players)');
const goals = {
  memoryFlat,
  noSegmentsLost: lost === 0 && holes.every((h) => h.missing === 0),
  noPlayerErrors: stats.errorEvents === 0,
};
const summary = {
  event,
  startedAt: startedAt.toISOString(),
  minutes: ranMs / 60_000,
  warmupMinutes: warmupMs / 60_000,
  players: { total: opts.players, ...kinds, pollMs: opts.pollMs, timeoutMs: opts.timeoutMs, hlsSkip: opts.hlsSkip },
  ladder: opts.ladder,
  worker: opts.worker,
  pipelines,
  loadAverageAtEnd: loadavg(),
  cpuPressureByMinute: minutes.map((m) => m.cpuPressure),
  bridges: final,
  playerTotals: total,
  playerErrors: { events: stats.errorEvents, players: stats.playersWithErrors.size, first: stats.firstErrors },
  servedByTrack: holes,
  fetchMs: { p50: percentile(stats.allFetchMs, 0.5), p99: percentile(stats.allFetchMs, 0.99) },
  memory: trends,
  goals,
};

const lines: string[] = [];
const row = (...cells: (string | number)[]) => lines.push(`| ${cells.join(' | ')} |`);
lines.push(
  `## Soak: ${f1(ranMs / 60_000)} min, pipelines ${pipelines.join('+')} (\`${opts.ladder}\` ladder), ${opts.players} players (${kinds.dash} DASH, ${kinds.hls} HLS), Worker under ${opts.worker === 'dev' ? '`wrangler dev`' : '`npm run serve`'}`,
  '',
  `${startedAt.toISOString().slice(0, 16)}Z, \`npm run soak -- --minutes ${opts.minutes}\`; load average at the end ${loadavg()
    .map((l) => l.toFixed(1))
    .join(
      ' / ',
    )}, CPU pressure (share of time something waited for a CPU) ${minutes.map((m) => f1(m.cpuPressure)).join(' / ')} % per minute; memory compared from the end of a ${f1(warmupMs / 60_000)}-minute warm-up.`,
  '',
);
row(
  'process',
  'RSS after warm-up (MB)',
  'RSS at end (MB)',
  'max (MB)',
  'growth (MB)',
  'slope (MB/h)',
  'flat',
  'CPU (% of a core)',
);
row('---', '---', '---', '---', '---', '---', '---', '---');
for (const t of trends)
  row(
    t.label + (t.restarts ? ` (restarted ${t.restarts}×)` : ''),
    f1(t.warmMb),
    f1(t.endMb),
    f1(t.maxMb),
    f1(t.growthMb),
    f1(t.slopeMbPerHour),
    t.flat ? 'yes' : '**no**',
    runCpu[t.label] ?? '-',
  );
lines.push('');
row('figure', 'value');
row('---', '---');
for (const p of pipelines) {
  const s = final[p] as BridgeSnapshot;
  if (!s.publish) {
    row(`bridge ${p}`, `no status (${(final[p] as { error: string }).error})`);
    continue;
  }
  const regions = Object.entries(s.publish.regions)
    .map(([r, c]) => `${r} ${c.published}/${c.failed} failed`)
    .join(', ');
  row(
    `segments published by bridge ${p} (whole event)`,
    `${s.publish.published} (${regions}), ${s.publish.failed} failed, ${s.publish.retried} retried, ffmpeg restarts ${s.pipeline.ffmpegRestarts}`,
  );
}
row('segments served to players', `${total.segmentsOk} (${(total.segmentBytes / 1e9).toFixed(2)} GB)`);
row(
  'segments lost (404 / 410 / 5xx / timeout / network / other)',
  `${lost} (${total.lost['404']} / ${total.lost['410']} / ${total.lost['5xx']} / ${total.lost.timeout} / ${total.lost.network} / ${total.lost['other-status'] + total.lost['bad-body']})`,
);
row('K gaps (EXT-X-GAP or missing from a playlist)', total.lost.gap);
row(
  'K no player received, per track',
  holes.map((h) => `${h.track} ${h.missing} of ${h.served + h.missing}`).join(', '),
);
row('player errors (events / players)', `${stats.errorEvents} / ${stats.playersWithErrors.size}`);
row('manifests fetched OK / failed', `${total.manifestsOk} / ${total.manifestsFailed}`);
row('404 retries (segment not there yet)', total.retried);
row('segments arriving after a 3-segment buffer would play them', total.lateForPlayback);
row('segment fetch p50 / p99 (ms)', `${summary.fetchMs.p50} / ${summary.fetchMs.p99}`);
row('edge answers by source (x-cache)', edgeLine(total.edgeSources));
row('contribution refusals (bridges)', refused);
row(
  'goal: memory flat, 0 lost, 0 player errors',
  `${goals.memoryFlat ? 'flat' : '**not flat**'}, ${goals.noSegmentsLost ? '0 lost' : `**${lost} lost**`}, ${goals.noPlayerErrors ? '0 errors' : `**${stats.errorEvents} errors**`}`,
);
if (stats.firstErrors.length > 0)
  lines.push('', 'First player errors:', '', ...stats.firstErrors.slice(0, 10).map((e) => `- ${e}`));
const markdown = `${lines.join('\n')}\n`;

await mkdir(opts.out, { recursive: true });
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
const base = `${opts.out}/soak-${stamp}`;
await writeFile(`${base}.json`, `${JSON.stringify({ summary, minutes, samples }, null, 1)}\n`);
await writeFile(`${base}.md`, markdown);
await writeFile(`${base}.log`, live?.output() ?? '');
console.log(`\n${markdown}`);
log(`report: ${base}.md, every sample: ${base}.json, the bridges' and source's last output: ${base}.log`);
process.exit(goals.memoryFlat && goals.noSegmentsLost && goals.noPlayerErrors ? 0 : 1);
