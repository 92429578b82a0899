/**
 * The feed tap (CC1 captions) runs inline in the video path: whatever it throws must be caught,
 * counted and logged at most every 10 s, never reach the ingest that feeds the encoder.
 */
import { describe, expect, it } from 'vitest';
import { ladders } from '../contract/ladder.ts';
import { Pipeline } from './pipeline.ts';
import { Publisher } from './publisher.ts';

/** Null packets (PID 0x1FFF): whole, aligned TS without any PTS, so no encoder is started. */
const nullPackets = (n: number) => {
  const out = new Uint8Array(188 * n).fill(0xff);
  for (let i = 0; i < n; i++) out.set([0x47, 0x1f, 0xff, 0x10], i * 188);
  return out;
};

describe('Pipeline feed tap', () => {
  it('an exception in the tap is counted and logged, and the feed carries on', () => {
    const log: string[] = [];
    const publisher = new Publisher({
      ingestUrl: 'http://127.0.0.1:9',
      token: 't',
      event: 'demo',
      pipeline: 'A',
      segmentBudgetMs: 2000,
      log: () => {},
    });
    let pushed = 0;
    const pipeline = new Pipeline({
      ladder: ladders.local,
      segmentDurationMs: 2000,
      publisher,
      ffmpegPath: 'ffmpeg',
      restartDelayMs: 0,
      log: (m) => log.push(m),
      feedTap: {
        push: () => {
          pushed++;
          throw new Error('decoder bug');
        },
        endOfFeed: () => {
          throw new Error('flush bug');
        },
      },
    });
    expect(pipeline.feed(nullPackets(3))).toBe(true);
    expect(pipeline.feed(nullPackets(2))).toBe(true);
    expect(() => pipeline.endOfFeed()).not.toThrow();
    expect(pushed).toBe(2);
    const status = pipeline.status();
    expect(status.feedTapErrors).toBe(3);
    expect(status.feedBytes).toBe(5 * 188);
    // Rate-limited: one line for the three errors.
    expect(log.filter((l) => l.includes('feed tap'))).toHaveLength(1);
    expect(log[0]).toMatch(/decoder bug/);
  });
});
