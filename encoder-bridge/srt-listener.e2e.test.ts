/**
 * SRT contribution with real parts: the synthetic source calls the bridge's SRT listener (ffmpeg
 * libsrt on both ends, loopback), the relayed MPEG-TS drives a real Pipeline, and epoch segments
 * reach a local ingest sink with the tfdt their number implies.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { localLadder } from '../contract/ladder.ts';
import { startIngestSink, waitUntil } from '../test/ingest-sink.ts';
import { parseWithMp4box } from '../test/mp4box-inspect.ts';
import { freePort } from '../test/wrangler-dev.ts';
import { Pipeline } from './pipeline.ts';
import { Publisher } from './publisher.ts';
import { SrtListener } from './srt-listener.ts';

const D = 2000;

describe('SRT listener', () => {
  it('relays an SRT caller into the pipeline, which publishes clean epoch segments', async () => {
    const sink = await startIngestSink();
    const log: string[] = [];
    const publisher = new Publisher({
      ingestUrl: sink.url,
      token: 't',
      event: 'srt',
      pipeline: 'A',
      segmentBudgetMs: D,
      log: (m) => log.push(m),
    });
    const ladder = { ...localLadder, video: [localLadder.video[2]] }; // one small rung keeps CPU low
    const pipeline = new Pipeline({
      ladder,
      segmentDurationMs: D,
      publisher,
      ffmpegPath: 'ffmpeg',
      restartDelayMs: 500,
      log: (m) => log.push(m),
    });
    const port = await freePort();
    const srt = new SrtListener({
      host: '127.0.0.1',
      port,
      latencyMs: 120,
      ffmpegPath: 'ffmpeg',
      onData: (c) => void pipeline.feed(c),
      onStreamEnd: () => pipeline.endOfFeed(),
      log: (m) => log.push(m),
    });
    srt.start();
    await new Promise((r) => setTimeout(r, 500));
    const source = spawn(
      process.execPath,
      [
        'encoder-bridge/synthetic-source.ts',
        '--srt',
        `srt://127.0.0.1:${port}`,
        '--size',
        '640x360',
        '--duration',
        '9',
      ],
      { stdio: 'ignore' },
    );
    try {
      await waitUntil(
        () => sink.puts.filter((p) => p.track === 'v234' && p.file.endsWith('.m4s')).length >= 2,
        30_000,
        `two segments via SRT\n${log.join('\n')}`,
      );
      expect(srt.counters.callers).toBe(1);
      const init = sink.puts.find((p) => p.track === 'v234' && p.file === 'init.mp4')!.body;
      for (const p of sink.puts.filter((x) => x.track === 'v234' && x.file.endsWith('.m4s'))) {
        const k = Number(p.file.replace('.m4s', ''));
        expect(Math.abs(k * D - Date.now())).toBeLessThan(60_000); // numbered from the feed's UTC
        const parsed = parseWithMp4box(init, p.body);
        expect(parsed.baseMediaDecodeTime).toBe(k * 180_000);
        expect(parsed.firstIsSync).toBe(true);
        expect(p.defects).toBeUndefined();
      }
    } finally {
      source.kill('SIGKILL');
      srt.stop();
      pipeline.stop();
      await sink.close();
    }
  }, 60_000);
});
