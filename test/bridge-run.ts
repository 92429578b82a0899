/**
 * Runs the synthetic source into a real bridge Pipeline faster than real time and collects what
 * it publishes in a local ingest sink (no Worker): for bridge tests that check segment timing.
 */
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import type { Ladder } from '../contract/ladder.ts';
import { Pipeline } from '../encoder-bridge/pipeline.ts';
import { Publisher } from '../encoder-bridge/publisher.ts';
import { sourceArgs } from '../encoder-bridge/synthetic-source.ts';
import { startIngestSink, waitUntil, type IngestSink } from './ingest-sink.ts';

export interface BridgeRunResult {
  puts: IngestSink['puts'];
  log: string[];
  /** init.mp4 body per track. */
  inits: Map<string, Uint8Array>;
  /** Segment bodies per track, by K. */
  segments: Map<string, Map<number, { body: Uint8Array; defects?: string }>>;
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
  const sink = await startIngestSink();
  const log: string[] = [];
  const publisher = new Publisher({
    ingestUrl: sink.url,
    token: 't',
    event: 'test',
    pipeline: 'A',
    segmentBudgetMs: 30_000,
    log: (m) => log.push(m),
  });
  const pipeline = new Pipeline({
    ladder: opts.ladder,
    segmentDurationMs: D,
    publisher,
    ffmpegPath: 'ffmpeg',
    restartDelayMs: 500,
    log: (m) => log.push(m),
  });
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
