import { describe, expect, it } from 'vitest';
import type { Pipeline } from './pipeline.ts';
import type { Publisher } from './publisher.ts';
import { createBridgeServer } from './server.ts';

describe('bridge HTTP server', () => {
  it('never times out the feed: one PUT lasts the whole event (Node cuts requests at 300 s by default)', () => {
    // Only the server's limits are looked at; no request reaches the pipeline.
    const server = createBridgeServer({
      pipeline: {} as Pipeline,
      publisher: {} as Publisher,
      segmentDurationMs: 2000,
      describe: () => ({}),
    });
    expect(server.requestTimeout).toBe(0);
  });
});
