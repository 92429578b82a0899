/**
 * Two-path RTP contribution end to end with real parts: ffmpeg's synthetic venue feed → RTP over
 * two loopback UDP paths, each dropping a different random 10% of packets and path 1 cut for 5 s →
 * the 2022-7 merge → a real bridge Pipeline (ffmpeg ABR ladder) → a local HTTP ingest sink.
 * No Worker needed: the sink stands in for the ingest route.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { localLadder } from '../../contract/ladder.ts';
import { startIngestSink, waitUntil } from '../../test/ingest-sink.ts';
import { parseWithMp4box } from '../../test/mp4box-inspect.ts';
import { Pipeline } from '../pipeline.ts';
import { Publisher } from '../publisher.ts';
import { sourceArgs } from '../synthetic-source.ts';
import { TS_PACKET_SIZE } from '../ts-timestamps.ts';
import { DualPathReceiver } from './dual-path-receiver.ts';
import { DualPathSender } from './dual-path-sender.ts';
import { LOCAL_SOURCES, RtpAllowList } from './source-allow-list.ts';

const D = 2000;
const STREAM_SECONDS = 15;
const CUT = { fromMs: 5000, toMs: 10_000 };

/** Checks MPEG-TS continuity counters per PID: any lost or repeated TS packet breaks them. */
class ContinuityCheck {
  readonly errors: string[] = [];
  private readonly last = new Map<number, number>();
  packets = 0;

  push(ts: Uint8Array): void {
    for (let p = 0; p + TS_PACKET_SIZE <= ts.length; p += TS_PACKET_SIZE) {
      this.packets++;
      const pid = ((ts[p + 1] & 0x1f) << 8) | ts[p + 2];
      const afc = (ts[p + 3] >> 4) & 3;
      const cc = ts[p + 3] & 0x0f;
      if (pid === 0x1fff || (afc & 1) === 0) continue; // null packets and payload-less packets do not count
      const discontinuity = afc & 2 && ts[p + 4] > 0 && (ts[p + 5] & 0x80) !== 0;
      const prev = this.last.get(pid);
      if (prev !== undefined && !discontinuity && cc !== ((prev + 1) & 0x0f) && this.errors.length < 20) {
        this.errors.push(`PID ${pid}: continuity counter ${prev} → ${cc} at TS packet ${this.packets}`);
      }
      this.last.set(pid, cc);
    }
  }
}

describe('two-path RTP contribution with SMPTE 2022-7 merge (real UDP, real ffmpeg)', () => {
  it('loses nothing when each path drops 10% and path 1 is cut for 5 s; the bridge publishes every segment clean', async () => {
    const log: string[] = [];
    const sink = await startIngestSink();
    const publisher = new Publisher({
      ingestUrl: sink.url,
      token: 'test',
      event: 'rtp',
      pipeline: 'A',
      segmentBudgetMs: D,
      log: (m) => log.push(m),
    });
    const pipeline = new Pipeline({
      ladder: localLadder,
      segmentDurationMs: D,
      publisher,
      ffmpegPath: process.env.FFMPEG_PATH ?? 'ffmpeg',
      restartDelayMs: 1000,
      log: (m) => log.push(m),
    });

    const merged = createHash('sha256');
    const continuity = new ContinuityCheck();
    const receiver = new DualPathReceiver({
      ports: [0, 0],
      skewMs: 200,
      allow: RtpAllowList.parse(LOCAL_SOURCES),
      onPayload: (ts) => {
        merged.update(ts);
        continuity.push(ts);
        pipeline.feed(ts);
      },
      onStreamEnd: () => pipeline.endOfFeed(),
      log: (m) => log.push(m),
    });
    const ports = await receiver.start();

    const sent = createHash('sha256');
    let firstSentAt = 0;
    let lastSentAt = 0;
    const sender = new DualPathSender({
      destinations: ports.map((port) => ({ host: '127.0.0.1', port })),
      impairment: { seed: 2022, paths: [{ drop: 0.1, outages: [CUT] }, { drop: 0.1 }] },
      onPacket: (_seq, payload) => {
        sent.update(payload);
        lastSentAt = performance.now();
        firstSentAt ||= lastSentAt;
      },
    });

    try {
      // Like the synthetic source: start on a whole second so PTS (= UTC) sit on the epoch grid.
      const t0 = Math.ceil(Date.now() / 1000) + 1;
      await new Promise((r) => setTimeout(r, t0 * 1000 - Date.now()));
      const ffmpeg = spawn(
        'ffmpeg',
        sourceArgs({ t0, fps: '30', size: '960x540', push: ['pipe:1'], durationSeconds: STREAM_SECONDS }),
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await sender.pipeFrom(ffmpeg.stdout);
      await new Promise((r) => setTimeout(r, 500)); // well past the skew window
      await receiver.stop(); // flushes the merger and ends the feed

      const s = receiver.status();
      const c = sender.counters;
      const rate = (c.packets - 1) / ((lastSentAt - firstSentAt) / 1000);
      console.log(
        `sender: ${c.packets} packets (${rate.toFixed(0)}/s) ${JSON.stringify(c.paths)}\nreceiver: ${JSON.stringify(s)}`,
      );

      // The merged stream is exactly what was sent: no loss, no duplicate, no reordering.
      expect(s.invalid).toBe(0);
      expect(s.streams).toBe(1);
      expect(s.merged.lost).toBe(0);
      expect(s.merged.emitted).toBe(c.packets);
      expect(merged.digest('hex')).toBe(sent.digest('hex'));
      expect(continuity.errors).toEqual([]);

      // Each path really was impaired, and the counters charge each path exactly for what it missed.
      const [p1, p2] = c.paths;
      // ~10% random drops outside the cut (during it, path 2 never drops: its copy is the only one)
      const outsideCut = c.packets - p1.cut;
      for (const p of [p1, p2]) {
        expect(p.dropped / outsideCut).toBeGreaterThan(0.08);
        expect(p.dropped / outsideCut).toBeLessThan(0.12);
      }
      expect(p1.cut).toBeGreaterThan(0.9 * rate * 5); // 5 s worth of packets
      expect(p1.cut).toBeLessThan(1.1 * rate * 5);
      expect(s.paths.path1.received).toBe(p1.sent);
      expect(s.paths.path2.received).toBe(p2.sent);
      expect(s.paths.path1.lost).toBe(p1.dropped + p1.cut);
      expect(s.paths.path2.lost).toBe(p2.dropped);
      expect(s.paths.path1.used + s.paths.path2.used).toBe(c.packets);
      for (const p of Object.values(s.paths)) expect(p.used + p.duplicate + p.late).toBe(p.received);

      // End to end at the bridge: every epoch segment K published, consecutive, with no defects.
      await waitUntil(() => pipeline.status().state !== 'encoding', 30_000, 'the bridge ffmpeg to finish');
      await waitUntil(() => sink.quietFor() > 1000, 10_000, 'publishing to settle');
      expect(log.filter((l) => /gave up|rejected|dropped|unexpectedly/.test(l))).toEqual([]);
      for (const track of ['v540', 'v360', 'v234', 'aen']) {
        const init = sink.puts.find((p) => p.track === track && p.file === 'init.mp4');
        expect(init, `${track} init`).toBeDefined();
        const segments = sink.puts.filter((p) => p.track === track && p.file.endsWith('.m4s'));
        const ks = segments.map((p) => Number(p.file.replace('.m4s', ''))).sort((a, b) => a - b);
        expect(ks.length, `${track} segments`).toBeGreaterThanOrEqual(5);
        expect(ks.at(-1)! - ks[0] + 1, `${track}: consecutive K`).toBe(ks.length);
        expect(
          segments.filter((p) => p.defects !== undefined).map((p) => `${p.file}: ${p.defects}`),
          `${track} defects`,
        ).toEqual([]);
        if (track !== 'aen') {
          for (const seg of segments) {
            const k = Number(seg.file.replace('.m4s', ''));
            const parsed = parseWithMp4box(init!.body, seg.body);
            expect(parsed.baseMediaDecodeTime, `${track}/${k} tfdt`).toBe((k * D * parsed.timescale) / 1000);
            expect(parsed.sampleCount, `${track}/${k} frames`).toBe(60);
            expect(parsed.firstIsSync).toBe(true);
          }
        }
      }
    } finally {
      pipeline.stop();
      await receiver.stop().catch(() => {});
      await sink.close();
    }
  }, 120_000);
});
