import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FeedGate } from './feed-gate.ts';
import { HttpPushFanout } from './http-push-fanout.ts';
import type { Pipeline } from './pipeline.ts';
import type { Publisher } from './publisher.ts';
import { createBridgeServer } from './server.ts';

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('HttpPushFanout against a bridge (loopback)', () => {
  it('sends the feed token; a second sender is refused while the first pushes, and takes over when it ends', async () => {
    const fed: string[] = [];
    const pipeline = {
      feed: (chunk: Uint8Array) => (fed.push(Buffer.from(chunk).toString()), true),
      endOfFeed: () => fed.push('|end'),
      drained: () => Promise.resolve(),
    } as unknown as Pipeline;
    const server = createBridgeServer({
      pipeline,
      publisher: {} as Publisher,
      gate: new FeedGate({ sink: pipeline }),
      feedToken: 'venue-token',
      httpFeedCounters: { unauthorized: 0 },
      segmentDurationMs: 2000,
      describe: () => ({}),
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed`;
    const logs = { first: [] as string[], second: [] as string[], stranger: [] as string[] };
    const first = new HttpPushFanout([url], { token: 'venue-token', retryMs: 50, log: (m) => logs.first.push(m) });
    const second = new HttpPushFanout([url], { token: 'venue-token', retryMs: 50, log: (m) => logs.second.push(m) });
    const stranger = new HttpPushFanout([url], { retryMs: 50, log: (m) => logs.stranger.push(m) });
    try {
      first.write(Buffer.from('a'));
      await settle(100);
      for (let i = 0; i < 6; i++) {
        first.write(Buffer.from('a'));
        second.write(Buffer.from('B'));
        stranger.write(Buffer.from('X'));
        await settle(60);
      }
      expect(fed.join('')).toMatch(/^a+$/);
      // Refused on every retry, logged once each.
      expect(logs.second).toEqual([
        expect.stringMatching(/lost \(bridge answered 409: another contribution feed is active/),
      ]);
      expect(logs.stranger).toEqual([
        expect.stringMatching(/lost \(bridge answered 401: the feed needs "Authorization: Bearer/),
      ]);

      first.end();
      await settle(100);
      for (let i = 0; i < 6; i++) {
        second.write(Buffer.from('B'));
        await settle(60);
      }
      expect(fed.join('')).toMatch(/^a+\|endB+$/);
    } finally {
      first.end();
      second.end();
      stranger.end();
      server.closeAllConnections();
      server.close();
    }
  });

  it('cuts off a bridge that does not take the feed, instead of queueing it without bound', async () => {
    const server = http.createServer((req) => req.pause()); // accepts the push, never reads
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed`;
    const log: string[] = [];
    const fanout = new HttpPushFanout([url], { retryMs: 10_000, maxBacklogBytes: 2 ** 20, log: (m) => log.push(m) });
    try {
      const chunk = Buffer.alloc(256 * 1024);
      fanout.write(chunk);
      await settle(50);
      for (let i = 0; i < 200 && log.length === 0; i++) {
        fanout.write(chunk);
        await settle(5);
      }
      expect(log).toEqual([expect.stringMatching(/lost \(bridge not keeping up: 1\.\d MiB waiting\)/)]);
      expect(fanout.targets[0].connected).toBe(false);
    } finally {
      fanout.end();
      server.closeAllConnections();
      server.close();
    }
  });
});
