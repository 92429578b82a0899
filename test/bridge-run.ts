/**
 * Runs the synthetic source into a real bridge Pipeline faster than real time and collects what
 * it publishes in a local ingest sink (no Worker): for bridge tests that check segment timing.
 */
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { Ladder } from '../contract/ladder.ts';
import { Pipeline } from '../encoder-bridge/pipeline.ts';
import { Publisher } from '../encoder-bridge/publisher.ts';
import { spawnCc608Source } from '../encoder-bridge/cea608/cc608-source.ts';
import { sourceArgs, type SourceOptions } from '../encoder-bridge/synthetic-source.ts';
import { TS_PACKET_SIZE, videoFrameTimes } from '../encoder-bridge/ts-timestamps.ts';
import { startIngestSink, waitUntil, type IngestSink } from './ingest-sink.ts';

export interface BridgeRunResult {
  puts: IngestSink['puts'];
  /** The pipeline's status when the feed had been sent and its output published (runBridgeOnFeed). */
  status?: ReturnType<Pipeline['status']>;
  log: string[];
  /** init.mp4 body per track. */
  inits: Map<string, Uint8Array>;
  /** Segment bodies per track, by K. */
  segments: Map<string, Map<number, { body: Uint8Array; defects?: string }>>;
}

/** A real bridge Pipeline publishing into a local ingest sink, its log kept in memory. */
async function testPipeline(ladder: Ladder, segmentDurationMs: number, pipelineId: string, restartDelayMs: number) {
  const sink = await startIngestSink();
  const log: string[] = [];
  const publisher = new Publisher({
    ingestUrl: sink.url,
    token: 't',
    event: 'test',
    pipeline: pipelineId,
    segmentBudgetMs: 30_000,
    log: (m) => log.push(m),
  });
  const pipeline = new Pipeline({
    ladder,
    segmentDurationMs,
    publisher,
    ffmpegPath: 'ffmpeg',
    restartDelayMs,
    log: (m) => log.push(m),
  });
  return { sink, log, pipeline };
}

export async function runBridge(opts: {
  ladder: Ladder;
  fps: string;
  size: string;
  seconds: number;
  audio?: 'tone' | 'full';
  segmentDurationMs?: number;
}): Promise<BridgeRunResult> {
  const D = opts.segmentDurationMs ?? 2000;
  const { sink, log, pipeline } = await testPipeline(opts.ladder, D, 'A', 500);
  // A whole second, so integer frame rates sit on the epoch grid; the PTS then run ahead of the
  // clock by at most `seconds`, far inside the ±13 h the bridge's unwrapping tolerates.
  const t0 = Math.ceil(Date.now() / 1000);
  // Faster than real time means as much CPU as there is: run at the lowest priority so tests that
  // need real time (live events, RTP) running beside this one keep theirs.
  const source = spawn(
    'nice',
    [
      '-n',
      '19',
      'ffmpeg',
      ...sourceArgs({
        t0,
        fps: opts.fps,
        size: opts.size,
        push: ['pipe:1'],
        durationSeconds: opts.seconds,
        audio: opts.audio,
        realtime: false,
      }),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  source.stderr!.on('data', (d) => log.push(`source: ${String(d).trim()}`));
  // The bridge's ffmpeg too, as soon as it exists (Linux nice is per thread: its encoder threads,
  // started after probing the input, inherit it).
  const lowPriority = (pid: number | undefined) => {
    try {
      if (pid) setPriority(pid, 19);
    } catch {}
  };
  let bridgePid: number | undefined;
  const renice = setInterval(() => {
    const pid = pipeline.status().run?.pid;
    if (pid && pid !== bridgePid) lowPriority((bridgePid = pid));
  }, 50);
  source.stdout!.on('data', (chunk: Buffer) => {
    if (!pipeline.feed(chunk)) {
      source.stdout!.pause();
      void pipeline.drained().then(() => source.stdout!.resume());
    }
  });
  try {
    await new Promise<void>((resolve) => source.stdout!.on('end', () => resolve()));
    pipeline.endOfFeed();
    await waitUntil(
      () => pipeline.status().state !== 'encoding' && sink.quietFor() > 500,
      120_000,
      `the bridge to finish\n${log.join('\n')}`,
    );
  } finally {
    clearInterval(renice);
    source.kill('SIGKILL');
    pipeline.stop();
    await sink.close();
  }
  const inits = new Map<string, Uint8Array>();
  const segments: BridgeRunResult['segments'] = new Map();
  for (const p of sink.puts) {
    if (p.file === 'init.mp4') inits.set(p.track, p.body);
    else if (p.file.endsWith('.m4s')) {
      if (!segments.has(p.track)) segments.set(p.track, new Map());
      segments.get(p.track)!.set(Number(p.file.slice(0, -4)), { body: p.body, defects: p.defects });
    }
  }
  return { puts: sink.puts, log, inits, segments };
}

/**
 * Records the synthetic source (faster than real time) into memory: the same MPEG-TS a bridge
 * would receive, so several bridges can be fed the same feed from different moments.
 */
export async function recordSource(
  opts: Omit<SourceOptions, 'push' | 'realtime' | 't0'> & { cc608?: boolean; t0?: number },
): Promise<{ t0: number; bytes: Uint8Array }> {
  const t0 = opts.t0 ?? Math.ceil(Date.now() / 1000);
  const source: SourceOptions = { ...opts, t0, push: ['pipe:1'], realtime: false };
  // Captions and the SEI UTC carrier both need the two-ffmpeg layout (Node inserts the SEI).
  const child =
    opts.cc608 || opts.utcCarrier === 'sei'
      ? spawnCc608Source('ffmpeg', source, { muxOut: 'pipe', stderr: 'pipe' }, { captions: opts.cc608 ?? false }).mux
      : spawn('ffmpeg', sourceArgs(source), { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  let err = '';
  child.stdout!.on('data', (c: Buffer) => chunks.push(c));
  child.stderr?.on('data', (d) => (err = (err + d).slice(-4000)));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  if (code !== 0) throw new Error(`source exited ${code}: ${err}`);
  return { t0, bytes: new Uint8Array(Buffer.concat(chunks)) };
}

/**
 * Feeds a recorded feed into a real bridge Pipeline from byte `fromByte` (a later join: the
 * pipeline starts at that moment of the feed), optionally killing its ffmpeg when the feed
 * reaches `killAtByte` (a crash: the pipeline restarts on the following bytes), and collects
 * what it publishes.
 */
export async function runBridgeOnFeed(opts: {
  ladder: Ladder;
  feed: Uint8Array;
  pipeline: string;
  fromByte?: number;
  killAtByte?: number;
  segmentDurationMs?: number;
}): Promise<BridgeRunResult> {
  const D = opts.segmentDurationMs ?? 2000;
  const { sink, log, pipeline } = await testPipeline(opts.ladder, D, opts.pipeline, 0);
  const lowPriority = setInterval(() => {
    const pid = pipeline.status().run?.pid;
    try {
      if (pid) setPriority(pid, 10);
    } catch {}
  }, 100);
  const from = Math.floor((opts.fromByte ?? 0) / TS_PACKET_SIZE) * TS_PACKET_SIZE;
  const chunk = 64 * TS_PACKET_SIZE;
  let killed = opts.killAtByte === undefined;
  let status: BridgeRunResult['status'];
  try {
    for (let at = from; at < opts.feed.length; at += chunk) {
      if (!killed && at >= opts.killAtByte!) {
        killed = true;
        pipeline.stop();
        // The exit is noticed asynchronously; the bytes meanwhile are lost, as in a crash.
        await waitUntil(() => pipeline.status().state !== 'encoding', 10_000, 'the killed ffmpeg to exit');
      }
      if (!pipeline.feed(opts.feed.subarray(at, Math.min(at + chunk, opts.feed.length))))
        await Promise.race([pipeline.drained(), new Promise((r) => setTimeout(r, 1000))]);
    }
    pipeline.endOfFeed();
    await waitUntil(
      () => pipeline.status().state !== 'encoding' && sink.quietFor() > 500,
      120_000,
      `the bridge to finish\n${log.join('\n')}`,
    );
    status = pipeline.status();
  } finally {
    clearInterval(lowPriority);
    pipeline.stop();
    await sink.close();
  }
  return { puts: sink.puts, log, status, ...collect(sink.puts) };
}

function collect(puts: IngestSink['puts']): Pick<BridgeRunResult, 'inits' | 'segments'> {
  const inits = new Map<string, Uint8Array>();
  const segments: BridgeRunResult['segments'] = new Map();
  for (const p of puts) {
    if (p.file === 'init.mp4') inits.set(p.track, p.body);
    else if (p.file.endsWith('.m4s')) {
      if (!segments.has(p.track)) segments.set(p.track, new Map());
      segments.get(p.track)!.set(Number(p.file.slice(0, -4)), { body: p.body, defects: p.defects });
    }
  }
  return { inits, segments };
}

/** Two tiny rungs and stereo AAC: every kind of track, little CPU on 2 shared cores (A/B tests). */
export const tinyAbLadder = Ladder.parse({
  name: 'epoch-lock-test',
  video: [
    { id: 'v1', width: 256, height: 144, bitrateKbps: 150, preset: 'ultrafast', profile: 'baseline' },
    { id: 'v2', width: 192, height: 108, bitrateKbps: 100, preset: 'ultrafast', profile: 'baseline' },
  ],
  audio: [{ id: 'a', bitrateKbps: 64 }],
});

/** The byte offset of the first video PES at least `seconds` after the feed's first one. */
export function byteAt(feed: Uint8Array, seconds: number): number {
  let first: number | undefined;
  for (let p = 0; p + TS_PACKET_SIZE <= feed.length; p += TS_PACKET_SIZE) {
    const [frame] = videoFrameTimes(feed.subarray(p, p + TS_PACKET_SIZE));
    if (!frame) continue;
    first ??= frame.pts;
    if (frame.pts - first >= seconds * 90_000) return p;
  }
  throw new Error(`the feed is shorter than ${seconds} s`);
}
