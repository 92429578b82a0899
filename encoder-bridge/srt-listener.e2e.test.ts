/**
 * SRT contribution with real parts: the synthetic source calls the bridge's SRT listener (ffmpeg
 * libsrt on both ends, loopback, encrypted with the default passphrase), the relayed MPEG-TS drives
 * a real Pipeline, and epoch segments reach a local ingest sink with the tfdt their number implies.
 * Callers without the passphrase, or while another feed is active, never reach the pipeline.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { localLadder } from '../contract/ladder.ts';
import { DEFAULT_SRT_PASSPHRASE } from './config.ts';
import { FeedGate } from './feed-gate.ts';
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
      passphrase: DEFAULT_SRT_PASSPHRASE,
      pbkeylen: 16,
      ffmpegPath: 'ffmpeg',
      gate: new FeedGate({ sink: pipeline }),
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
      expect(srt.counters).toMatchObject({ callers: 1, rejected: 0, busy: 0 });
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

  it('rejects callers without the passphrase or with another one, and a caller while another feed is active', async () => {
    const log: string[] = [];
    const fed: number[] = [];
    const gate = new FeedGate({ sink: { feed: (c) => (fed.push(c.byteLength), true), endOfFeed: () => {} } });
    const port = await freePort();
    const srt = new SrtListener({
      host: '127.0.0.1',
      port,
      latencyMs: 120,
      passphrase: DEFAULT_SRT_PASSPHRASE,
      pbkeylen: 16,
      ffmpegPath: 'ffmpeg',
      gate,
      log: (m) => log.push(m),
    });
    srt.start();
    await new Promise((r) => setTimeout(r, 500));
    const call = (flags: string[]) =>
      new Promise<void>((resolve) => {
        const source = spawn(
          process.execPath,
          [
            'encoder-bridge/synthetic-source.ts',
            '--srt',
            `srt://127.0.0.1:${port}`,
            '--size',
            '320x180',
            '--duration',
            '2',
            ...flags,
          ],
          { stdio: 'ignore' },
        );
        const timer = setTimeout(() => source.kill('SIGKILL'), 15_000);
        source.on('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    try {
      await call(['--srt-passphrase', 'not-the-passphrase']);
      await waitUntil(() => srt.counters.rejected >= 1, 5000, `a rejection\n${log.join('\n')}`);
      expect(srt.counters.lastRejection).toMatch(/BADSECRET/);
      expect(fed).toEqual([]);
      expect(srt.counters.callers).toBe(0);

      // Another feed holds the pipeline: the right passphrase is not enough.
      const other = gate.claim('http', 'pusher')!;
      const alive = setInterval(() => other.feed(Uint8Array.of(0)), 200); // never silent long enough to lose the feed
      const busyCall = call([]);
      await waitUntil(() => srt.counters.busy >= 1, 10_000, `the busy refusal\n${log.join('\n')}`);
      clearInterval(alive);
      other.end();
      fed.length = 0;
      await busyCall;
      expect(srt.counters.callers).toBe(0);
      expect(gate.status().refused.srt).toBe(1);
      expect(log.some((l) => /disconnected: another contribution feed is active/.test(l))).toBe(true);
    } finally {
      srt.stop();
    }
  }, 60_000);
});
