/**
 * Live latency and startup benchmark: `node bench/latency.ts` (a section of `npm run bench`).
 * Prints markdown.
 *
 * One synthetic source (encoder-bridge/synthetic-source.ts: UTC in every frame's PTS) feeds, in the
 * same run on the same machine:
 * - the static bucket: plain ffmpeg encoding the same ladder (same x264 settings, a keyframe every
 *   D) into its own DASH muxer (`-f dash`, `-hls_playlist 1` for HLS from the same encode), writing
 *   D-second segments into a directory nginx serves;
 * - ours: one encoder bridge (pipeline A) publishing to the Worker under `npm run serve` (workerd,
 *   no wrangler dev proxy), players reading the edge's /live routes.
 * dash.js and hls.js play each in headless Chromium with their default settings (bench/latency-page.html,
 * on the stream's own origin for both; the player library is loaded before the clock starts), plus
 * hls.js with `liveSyncDuration` = D, the closest hls.js sits (docs/manifests.md, HOLD-BACK).
 * Low latency (docs/latency.md): our bridge publishes chunked CMAF parts (P = 500 ms), so the same
 * event also serves `?latency=low`: LL-DASH in dash.js (its defaults: the MPD turns its low-latency
 * mode on) and LL-HLS in hls.js (`lowLatencyMode`, its default, with `maxLiveSyncPlaybackRate` 1.5
 * as the player page sets it). The static bucket has no such row: ffmpeg's LL-DASH/LL-HLS output
 * (`-ldash`, `-lhls`) writes each segment while it grows, and a static server answers a file with
 * the length it has when asked, so a player would get truncated segments.
 *
 * - Live latency: wall clock minus the capture time of the frame on screen, sampled every 500 ms
 *   over the watch, median per trial, then median of trials. The capture time comes from the
 *   source's UTC: ours by the epoch anchor (K·D since the epoch); the bucket's from the first
 *   frame's PTS, which ffmpeg reports (`start:`), and its own media time from there.
 * - Startup: from handing the player the manifest URL to the first `playing`.
 * - Warm rows (dash.js and hls.js defaults, both stacks): another player of the same stream has
 *   played for WARM_MS when the measured one starts, so our edge cache holds what it holds for a
 *   viewer joining a watched event (nginx has nothing to warm; its row carries the same second
 *   player's load). Every other row is a single viewer, whose first requests are edge misses.
 * Trials are round-robin over the rows so a busy moment slows all alike.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { unwrapPts } from '../contract/epoch.ts';
import { defaultEventConfig } from '../contract/event-config.ts';
import { ladders } from '../contract/ladder.ts';
import { resolveLatency } from '../contract/latency.ts';
import { startServe } from '../scripts/serve.ts';
import { launchChromium } from '../test/browser.ts';
import { bridgeStatus, startLiveEvent, waitFor } from '../test/live-event.ts';
import { freePort } from '../test/wrangler-dev.ts';

const D = defaultEventConfig.segmentDurationMs;
const PART_MS = 500;
const TRIALS = Number(process.env.BENCH_LATENCY_TRIALS ?? 3);
const WATCH_MS = Number(process.env.BENCH_LATENCY_WATCH_S ?? 20) * 1000;
const LADDER = process.env.BENCH_LATENCY_LADDER ?? 'local';
/** How long the other viewer of a warm row plays before the measured player starts. */
const WARM_MS = 3 * D;
const log = (m: string) => console.error(`latency bench: ${new Date().toISOString().slice(11, 19)} ${m}`);
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0
    ? Number.NaN
    : s.length % 2
      ? s[(s.length - 1) / 2]
      : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const version = (pkg: string) =>
  (JSON.parse(readFileSync(join('node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
const sec = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)} s` : '–');

// ---- the static bucket: nginx serving a directory ffmpeg's DASH muxer writes into ------------------
const root = mkdtempSync(join(tmpdir(), 'bench-latency-'));
const www = join(root, 'www');
mkdirSync(join(www, 'bucket'), { recursive: true });

async function startNginx(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const conf = join(root, 'nginx.conf');
  writeFileSync(
    conf,
    // A bucket's defaults: files as they are, Last-Modified/ETag, no Cache-Control of its own.
    `${process.getuid?.() === 0 ? 'user root root; ' : ''}daemon off; worker_processes 1; pid ${root}/nginx.pid; error_log ${root}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off; client_body_temp_path ${root}/body; proxy_temp_path ${root}/proxy; fastcgi_temp_path ${root}/fcgi; uwsgi_temp_path ${root}/uwsgi; scgi_temp_path ${root}/scgi;
  sendfile on; tcp_nopush on;
  types { text/html html; application/javascript js; application/dash+xml mpd; application/vnd.apple.mpegurl m3u8; video/mp4 m4s mp4; }
  server { listen 127.0.0.1:${port}; root ${www}; add_header Access-Control-Allow-Origin *; }
}
`,
  );
  const child = spawn('nginx', ['-c', conf, '-p', root], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  // Any answer means it listens (fetch throws until then).
  await waitFor(async () => (await fetch(`${url}/bucket/`)).status > 0, 10_000, 'nginx');
  return { url, child };
}

/**
 * The bucket's encoder: the same ladder and x264 settings as the bridge (contract/ladder.ts,
 * encoder-bridge/ffmpeg-args.ts: zerolatency, a keyframe exactly every D), into ffmpeg's DASH
 * muxer with its defaults plus what a user sets for live: D-second segments, a window, an HLS
 * playlist from the same encode.
 */
function bucketEncoderArgs(outDir: string): string[] {
  const ladder = ladders[LADDER];
  const v = ladder.video;
  const a = ladder.audio[0];
  const split = v.map((_, i) => `[s${i}]`).join('');
  const filter = [
    `[0:v]split=${v.length}${split}`,
    ...v.map((r, i) => `[s${i}]scale=${r.width}:${r.height},format=yuv420p[v${i}]`),
  ].join(';');
  return [
    ...['-hide_banner', '-nostats', '-loglevel', 'info', '-nostdin'],
    ...['-probesize', '2000000', '-analyzeduration', '1500000', '-f', 'mpegts', '-i', 'pipe:0'],
    ...['-filter_complex', filter],
    ...v.flatMap((_, i) => ['-map', `[v${i}]`]),
    ...['-map', '0:a:0'],
    ...['-c:v', 'libx264', '-tune', 'zerolatency', '-sc_threshold', '0', '-g', '9999', '-keyint_min', '9999'],
    ...['-force_key_frames', `expr:gte(t,n_forced*${D / 1000})`],
    ...v.flatMap((r, i) => [
      `-preset:v:${i}`,
      r.preset,
      `-profile:v:${i}`,
      r.profile,
      `-b:v:${i}`,
      `${r.bitrateKbps}k`,
      `-maxrate:v:${i}`,
      `${Math.round(r.bitrateKbps * 1.2)}k`,
      `-bufsize:v:${i}`,
      `${r.bitrateKbps * 2}k`,
    ]),
    ...['-c:a', 'aac', '-b:a', `${a.bitrateKbps}k`, '-ac', '2', '-ar', '48000'],
    ...['-f', 'dash', '-seg_duration', String(D / 1000), '-use_template', '1', '-use_timeline', '1'],
    ...['-window_size', '15', '-extra_window_size', '5', '-hls_playlist', '1'],
    ...['-adaptation_sets', 'id=0,streams=v id=1,streams=a'],
    join(outDir, 'index.mpd'),
  ];
}

/**
 * Receives the source's HTTP push (PUT /feed, chunked MPEG-TS, as a bridge does) and pipes it into
 * the bucket's ffmpeg. Resolves the capture UTC (ms) of the encoder's media time 0: ffmpeg starts
 * its output at the input's start time, the first PTS, which the source stamped from UTC.
 */
async function startBucketEncoder(): Promise<{
  feedUrl: string;
  firstUtcMs: Promise<number>;
  stop(): Promise<void>;
}> {
  const port = await freePort();
  let ffmpeg: ChildProcess | undefined;
  let stderr = '';
  let resolveUtc!: (ms: number) => void;
  const firstUtcMs = new Promise<number>((r) => (resolveUtc = r));
  const server = createServer({ requestTimeout: 0 }, (req, res) => {
    if (req.url !== '/feed' || ffmpeg) {
      res.writeHead(ffmpeg ? 409 : 404).end();
      return;
    }
    ffmpeg = spawn('ffmpeg', bucketEncoderArgs(join(www, 'bucket')), { stdio: ['pipe', 'ignore', 'pipe'] });
    ffmpeg.stderr!.on('data', (d) => {
      stderr = (stderr + d).slice(-20_000);
      const m = /start: (\d+\.\d+)/.exec(stderr);
      if (m) resolveUtc(unwrapPts(Math.round(Number(m[1]) * 90_000), Date.now()).ticks / 90);
    });
    ffmpeg.stdin!.on('error', () => {});
    req.pipe(ffmpeg.stdin!);
    req.on('close', () => res.end());
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    feedUrl: `http://127.0.0.1:${port}/feed`,
    firstUtcMs,
    stop: async () => {
      server.closeAllConnections();
      server.close();
      if (ffmpeg && ffmpeg.exitCode === null) {
        ffmpeg.kill('SIGTERM');
        await new Promise((r) => ffmpeg!.once('exit', r));
      }
      if (process.env.BENCH_LATENCY_DEBUG) console.error(stderr);
    },
  };
}

/** The PROGRAM-DATE-TIME the bucket's HLS gives media time 0: that of segment n, less (n−1)·D. */
function bucketProgramDateTimeOfMediaTime0(playlist: string): number {
  let date: number | undefined;
  for (const line of playlist.split('\n')) {
    if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) date = Date.parse(line.slice(25).replace(/\+0000$/, 'Z'));
    const n = /-(\d+)\.m4s$/.exec(line)?.[1];
    if (n !== undefined && date !== undefined) return date - (Number(n) - 1) * D;
  }
  throw new Error(`no dated segment in the bucket's media playlist:\n${playlist}`);
}

// ---- players ---------------------------------------------------------------------------------------
interface Row {
  stack: 'bucket' | 'ours';
  player: 'dash' | 'hls';
  /** hls.js liveSyncDuration in seconds, or undefined for the defaults. */
  liveSync?: number;
  /** The low-latency manifests (`?latency=low`, ours only). */
  low?: boolean;
  /**
   * Another viewer of the same stream has been playing for WARM_MS when the measured player starts
   * (both stacks): our edge cache holds what a busy event's does, as a viewer joining it finds.
   */
  warm?: boolean;
}
interface Trial {
  latencyS: number;
  startupS: number;
  playerLatencyS: number;
  stalls: number;
  errors: string[];
  /** x-cache of the first manifest, init and media segment the player fetched (ours). */
  firstFetches: string[];
}

/**
 * A standard-latency player sits a fixed hold-back behind the newest segment it saw at start, so
 * its latency depends on when in the segment cycle it starts (up to D more). Each trial starts the
 * player at `phaseMs` into a segment of its own stack (segment boundaries are the capture times
 * anchorMs + n·D), the same phase for every row of one trial and spread over D across trials, so
 * the stacks are compared at the same moments of their cycles rather than by luck.
 */
function startTimeAt(phaseMs: number, anchorMs: number, notBefore: number): number {
  const into = (((notBefore - anchorMs) % D) + D) % D;
  return notBefore + ((phaseMs - into + D) % D);
}

/** A new browser context with the bench page and the row's player library loaded, not started yet. */
async function openPlayer(browser: Browser, row: Row, src: string, anchor: { anchorMs: number; pdtShiftMs: number }) {
  const context = await browser.newContext();
  // The page comes from the stream's own origin (Playwright answers /__bench/ itself, nothing
  // reaches the server): no cross-origin requests for either stack.
  const origin = new URL(src).origin;
  await context.route(`${origin}/__bench/**`, (route) => {
    const path = new URL(route.request().url()).pathname.replace('/__bench/', '');
    const file = path === 'page.html' ? 'bench/latency-page.html' : join('public', path);
    return route.fulfill({
      body: readFileSync(file),
      contentType: path.endsWith('.js') ? 'application/javascript' : 'text/html',
    });
  });
  const page = await context.newPage();
  const q = new URLSearchParams({
    player: row.player,
    src,
    anchorMs: String(anchor.anchorMs),
    pdtShiftMs: String(anchor.pdtShiftMs),
    ...(row.liveSync ? { liveSync: String(row.liveSync) } : {}),
    // hls.js on LL-HLS: the player page's setting for `&latency=low` (public/player.js).
    ...(row.low && row.player === 'hls' ? { maxRate: '1.5' } : {}),
  });
  await page.goto(`${origin}/__bench/page.html?${q}`);
  await page.addScriptTag({
    url: row.player === 'dash' ? '/__bench/vendor/dash.all.min.js' : '/__bench/vendor/hls.min.js',
  });
  return { context, page };
}

/** One trial of a row; every browser context it opened is closed however it ends. */
async function trial(
  browser: Browser,
  row: Row,
  src: string,
  anchor: { anchorMs: number; pdtShiftMs: number },
  phaseMs: number,
): Promise<Trial> {
  const opened: BrowserContext[] = [];
  const open = async () => {
    const player = await openPlayer(browser, row, src, anchor);
    opened.push(player.context);
    return player.page;
  };
  try {
    return await watchTrial(open, row, anchor, phaseMs);
  } finally {
    for (const context of opened) await context.close().catch(() => undefined);
  }
}

async function watchTrial(
  open: () => Promise<Page>,
  row: Row,
  anchor: { anchorMs: number; pdtShiftMs: number },
  phaseMs: number,
): Promise<Trial> {
  // The other viewer of a warm row: playing for WARM_MS before the measured player starts.
  if (row.warm) {
    const companion = await open();
    await companion.evaluate(() => (window as any).startPlayer());
    await new Promise((r) => setTimeout(r, WARM_MS));
  }
  const page = await open();
  // BENCH_LATENCY_WATERFALL=1: every request of the first seconds, ms from the page's start (stderr).
  const waterfall: string[] = [];
  if (process.env.BENCH_LATENCY_WATERFALL)
    page.on('requestfinished', async (req) => {
      const t = req.timing();
      const res = await req.response();
      waterfall.push(
        `${(t.startTime % 100_000).toFixed(0).padStart(6)} +${t.responseStart.toFixed(0).padStart(4)} ttfb, +${t.responseEnd.toFixed(0).padStart(4)} end  ${res?.status()} ${res?.headers()['x-cache'] ?? ''} ${new URL(req.url()).pathname}${new URL(req.url()).search}`,
      );
    });
  const firstFetches: string[] = [];
  const seen = new Set<string>();
  page.on('response', (res) => {
    const url = new URL(res.url());
    const kind = /\.(mpd|m3u8)$/.test(url.pathname)
      ? 'manifest'
      : /init/.test(url.pathname)
        ? 'init'
        : /\.m4s$/.test(url.pathname)
          ? 'segment'
          : undefined;
    if (!kind || seen.has(kind)) return;
    seen.add(kind);
    firstFetches.push(`${kind} ${res.status()} ${res.headers()['x-cache'] ?? ''}`.trim());
  });
  const at = startTimeAt(phaseMs, anchor.anchorMs, Date.now() + 50);
  await page.evaluate(
    (at) => new Promise((r) => setTimeout(r, at - Date.now())).then(() => (window as any).startPlayer()),
    at,
  );
  await page.waitForFunction(() => (window as any).__bench.playingAt !== null, undefined, { timeout: 30_000 });
  const samples: number[] = [];
  const playerSamples: number[] = [];
  const until = Date.now() + WATCH_MS;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 500));
    const s = await page.evaluate(() => {
      const b = (window as any).__bench;
      return { utc: b.utcMs(), now: Date.now(), player: b.playerLatency() };
    });
    if (s.utc !== null) samples.push((s.now - s.utc) / 1000);
    if (typeof s.player === 'number' && Number.isFinite(s.player)) playerSamples.push(s.player);
  }
  const end = await page.evaluate(() => {
    const b = (window as any).__bench;
    return { startAt: b.startAt, playingAt: b.playingAt, stalls: b.stalls.length, errors: b.errors };
  });
  if (waterfall.length)
    log(
      `waterfall (start ${end.startAt % 100_000}, playing ${end.playingAt % 100_000}):\n${waterfall.slice(0, 25).join('\n')}`,
    );
  return {
    latencyS: median(samples),
    startupS: (end.playingAt - end.startAt) / 1000,
    playerLatencyS: median(playerSamples),
    stalls: end.stalls,
    errors: end.errors,
    firstFetches,
  };
}

// ---- run ---------------------------------------------------------------------------------------------
const stops: (() => Promise<unknown>)[] = [];
try {
  const nginx = await startNginx();
  stops.push(async () => {
    nginx.child.kill('SIGTERM');
  });
  const bucket = await startBucketEncoder();
  stops.push(bucket.stop);
  const served = await startServe({ port: 0, persistTo: null, logTo: 'stderr' });
  stops.push(served.stop);
  const event = `latency-${Date.now().toString(36)}`;
  log(`ours: ${served.url}/live/${event}/; bucket: ${nginx.url}/bucket/; ladder ${LADDER}`);
  const live = await startLiveEvent({
    workerUrl: served.url,
    event,
    pipelines: ['A'],
    ladder: LADDER,
    extraFeeds: [bucket.feedUrl],
    // Parts for the low-latency rows (the event's default part grid, 500 ms).
    bridgeFlags: ['--part-duration-ms', String(PART_MS)],
  });
  stops.unshift(live.stop);
  await waitFor(
    async () => ((await bridgeStatus(live.bridgeUrl)).publish.published ?? 0) >= 8,
    90_000,
    'ours to publish',
  );
  const bucketUtc0 = await bucket.firstUtcMs;
  await waitFor(
    async () => (readFileSync(join(www, 'bucket', 'index.mpd'), 'utf8').match(/<S /g)?.length ?? 0) >= 1,
    60_000,
    'the bucket MPD',
  );
  await waitFor(async () => (await fetch(`${nginx.url}/bucket/master.m3u8`)).ok, 30_000, 'the bucket HLS playlist');
  // The bucket's HLS dates segments from its own clock (EXT-X-PROGRAM-DATE-TIME from the MPD's
  // availabilityStartTime); segment number n covers media time [(n−1)·D, n·D).
  const bucketPdt0 = bucketProgramDateTimeOfMediaTime0(readFileSync(join(www, 'bucket', 'media_0.m3u8'), 'utf8'));
  const ast = /availabilityStartTime="([^"]+)"/.exec(readFileSync(join(www, 'bucket', 'index.mpd'), 'utf8'))?.[1];
  // dash.js measures the bucket's latency against this; the capture time of media time 0 is earlier.
  log(
    `both publish; bucket media time 0 captured ${new Date(bucketUtc0).toISOString()}, its MPD says availabilityStartTime ${ast} ` +
      `(${ast ? ((Date.parse(ast) - bucketUtc0) / 1000).toFixed(2) : '?'} s later), its HLS dates it ${new Date(bucketPdt0).toISOString()}; warming up 10 s`,
  );
  await new Promise((r) => setTimeout(r, 10_000));

  const sources: Record<Row['stack'], Record<Row['player'], string>> = {
    bucket: { dash: `${nginx.url}/bucket/index.mpd`, hls: `${nginx.url}/bucket/master.m3u8` },
    ours: { dash: `${served.url}/live/${event}/index.mpd`, hls: `${served.url}/live/${event}/index.m3u8` },
  };
  const sourceOf = (row: Row) => `${sources[row.stack][row.player]}${row.low ? '?latency=low' : ''}`;
  // Ours: media time is UTC (the epoch anchor) and so is PROGRAM-DATE-TIME (K·D).
  const anchors: Record<Row['stack'], { anchorMs: number; pdtShiftMs: number }> = {
    bucket: { anchorMs: bucketUtc0, pdtShiftMs: bucketUtc0 - bucketPdt0 },
    ours: { anchorMs: 0, pdtShiftMs: 0 },
  };
  const rows: Row[] = [];
  for (const player of ['dash', 'hls'] as const)
    for (const stack of ['bucket', 'ours'] as const) rows.push({ stack, player });
  for (const stack of ['bucket', 'ours'] as const) rows.push({ stack, player: 'hls', liveSync: D / 1000 });
  for (const player of ['dash', 'hls'] as const) rows.push({ stack: 'ours', player, low: true });
  for (const player of ['dash', 'hls'] as const)
    for (const stack of ['bucket', 'ours'] as const) rows.push({ stack, player, warm: true });
  // BENCH_LATENCY_ROWS=hls,dash,low,liveSync: only rows whose label words match (a quick look, not a table).
  const only = process.env.BENCH_LATENCY_ROWS?.split(',');
  if (only) {
    const words = (r: Row) => [
      r.stack,
      r.player,
      r.low ? 'low' : 'std',
      r.liveSync ? 'liveSync' : 'defaults',
      r.warm ? 'warm' : 'cold',
    ];
    rows.splice(0, rows.length, ...rows.filter((r) => only.every((w) => words(r).includes(w))));
  }

  const browser = await launchChromium();
  stops.unshift(() => browser.close());
  const results = new Map<Row, Trial[]>(rows.map((r) => [r, []]));
  for (let t = 0; t < TRIALS; t++) {
    for (const row of rows) {
      const phaseMs = ((t + 0.5) * D) / TRIALS;
      const r = await trial(browser, row, sourceOf(row), anchors[row.stack], phaseMs).catch((err: Error) => {
        log(`${row.stack} ${row.player}: ${err.message}`);
        return undefined;
      });
      if (r) results.get(row)!.push(r);
      log(
        `trial ${t + 1}/${TRIALS} (started ${(((t + 0.5) * D) / TRIALS).toFixed(0)} ms into a segment) ${row.stack} ${row.player}${row.liveSync ? ` liveSync ${row.liveSync}` : ''}${row.low ? ' low latency' : ''}${row.warm ? ' (another viewer watching)' : ''}: ` +
          (r
            ? `latency ${sec(r.latencyS)} (player's ${sec(r.playerLatencyS)}), startup ${sec(r.startupS)}, stalls ${r.stalls}, errors ${r.errors.length}, first ${r.firstFetches.join('; ')}`
            : 'failed'),
      );
    }
  }

  const latency = resolveLatency(defaultEventConfig);
  const label = (r: Row) =>
    r.low
      ? r.player === 'dash'
        ? 'dash.js (defaults) on LL-DASH'
        : 'hls.js (lowLatencyMode, maxLiveSyncPlaybackRate 1.5) on LL-HLS'
      : `${r.player === 'dash' ? 'dash.js' : 'hls.js'}${r.liveSync ? ` (liveSyncDuration ${r.liveSync})` : ' (defaults)'}${r.warm ? ', another viewer watching' : ''}`;
  const cell = (row: Row, pick: (t: Trial) => number) => sec(median(results.get(row)!.map(pick)));
  /** The standard-latency row of a stack and player: cold unless `warm`, player defaults unless liveSync. */
  const find = (
    stack: Row['stack'],
    player: Row['player'],
    { liveSync, warm }: { liveSync?: number; warm?: boolean } = {},
  ) =>
    rows.find(
      (r) => r.stack === stack && r.player === player && r.liveSync === liveSync && !r.low && !r.warm === !warm,
    )!;

  if (only) {
    log('BENCH_LATENCY_ROWS: a subset of rows, no table');
    process.exitCode = 0;
  } else {
    console.log('## Live latency and startup\n');
    console.log(
      `\`node bench/latency.ts\`: one synthetic source feeding ffmpeg's own DASH muxer into nginx (the static bucket) and ` +
        `one encoder bridge into the Worker on \`npm run serve\` (ours), same \`${LADDER}\` ladder, ${D / 1000} s segments, same run; ` +
        `dash.js ${version('dashjs')} and hls.js ${version('hls.js')} in headless Chromium. ` +
        `${TRIALS} trials per row, round-robin, trial i starting the player (i − ½)·D/${TRIALS} into a segment of its stack (the same phase for every row, spread over the segment), each watched ${WATCH_MS / 1000} s after the first frame; medians of the per-trial medians. ` +
        `Latency is wall clock minus the capture time of the frame on screen (the source's UTC). ` +
        `Startup is from handing the player the manifest URL to the first frame. Our manifests signal the latency defaults: ` +
        `ServiceDescription target ${latency.targetMs / 1000} s, HLS HOLD-BACK 6 s (RFC 8216bis: at least 3 target durations). ` +
        `Load average at the end: ${loadavg()[0].toFixed(1)}.\n`,
    );
    console.log('| player | static bucket (ffmpeg + nginx) | ours | ours better |');
    console.log('| --- | --- | --- | --- |');
    const better = (a: Row, b: Row, pick: (t: Trial) => number) => {
      const x = median(results.get(a)!.map(pick));
      const y = median(results.get(b)!.map(pick));
      return Number.isFinite(x) && Number.isFinite(y) ? (y < x ? 'yes' : 'no') : '–';
    };
    for (const [name, pick] of [
      ['live latency', (t: Trial) => t.latencyS],
      ['startup', (t: Trial) => t.startupS],
    ] as const) {
      for (const [player, liveSync] of [
        ['dash', undefined],
        ['hls', undefined],
        ['hls', D / 1000],
      ] as const) {
        const b = find('bucket', player, { liveSync });
        const o = find('ours', player, { liveSync });
        console.log(`| ${label(b)} ${name} | ${cell(b, pick)} | ${cell(o, pick)} | ${better(b, o, pick)} |`);
      }
    }
    console.log(
      `\nA viewer joining a stream another viewer is watching (another player of the same stream started ${WARM_MS / 1000} s before the measured one, in both stacks: for ours the edge cache then holds what it holds for a busy event; nginx has no cache to warm, but its row carries the same second player's load):\n`,
    );
    console.log('| player, another viewer watching | static bucket (ffmpeg + nginx) | ours | ours better |');
    console.log('| --- | --- | --- | --- |');
    for (const [name, pick] of [
      ['live latency', (t: Trial) => t.latencyS],
      ['startup', (t: Trial) => t.startupS],
    ] as const) {
      for (const player of ['dash', 'hls'] as const) {
        const b = find('bucket', player, { warm: true });
        const o = find('ours', player, { warm: true });
        console.log(
          `| ${player === 'dash' ? 'dash.js' : 'hls.js'} (defaults) ${name} | ${cell(b, pick)} | ${cell(o, pick)} | ${better(b, o, pick)} |`,
        );
      }
    }
    console.log(
      `\nLow latency, ours (the same event, chunked CMAF parts of ${PART_MS} ms; no static-bucket row, see above):\n`,
    );
    console.log('| player | live latency | startup |');
    console.log('| --- | --- | --- |');
    for (const row of rows.filter((r) => r.low))
      console.log(`| ${label(row)} | ${cell(row, (t) => t.latencyS)} | ${cell(row, (t) => t.startupS)} |`);
    console.log(
      '\n| row | trials | stalls | errors | player-reported latency (median) | first manifest / init / segment |',
    );
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const row of rows) {
      const ts = results.get(row)!;
      console.log(
        `| ${row.stack} ${label(row)} | ${ts.length} | ${ts.reduce((n, t) => n + t.stalls, 0)} | ${ts.reduce((n, t) => n + t.errors.length, 0)} | ${cell(row, (t) => t.playerLatencyS)} | ${ts[0]?.firstFetches.join('; ') ?? '–'} |`,
      );
    }
    console.log(
      '\nThe player-reported latency is dash.js `getCurrentLiveLatency()` (against the MPD clock) or hls.js `latency` (against its estimate of the playlist end), shown beside the capture-based figure.\n',
    );
  }
} finally {
  for (const stop of stops) await stop().catch((err) => log(`cleanup: ${(err as Error).message}`));
  rmSync(root, { recursive: true, force: true });
}
