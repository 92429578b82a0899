import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Pipeline } from './pipeline.ts';
import type { Publisher } from './publisher.ts';
import { createBridgeServer } from './server.ts';

describe('bridge HTTP server', () => {
  it('never times out the feed: one PUT lasts the whole event (Node cuts requests at 300 s by default)', async () => {
    // Only the server's limits are looked at here; no request reaches the pipeline.
    const server = createBridgeServer({ pipeline: {} as Pipeline, publisher: {} as Publisher, segmentDurationMs: 2000, describe: () => ({}) });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      expect((server.address() as AddressInfo).port).toBeGreaterThan(0);
      expect(server.requestTimeout).toBe(0);
    } finally {
      server.close();
    }
  });
});
