import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { contributionStatus } from './contribution-status.ts';
import { FeedGate } from './feed-gate.ts';
import type { Pipeline } from './pipeline.ts';
import type { Publisher } from './publisher.ts';
import { createBridgeServer, type HttpFeedCounters } from './server.ts';

const TOKEN = 'test-feed-token';

/** Records what reaches the pipeline, in order. */
function fakePipeline() {
  const fed: string[] = [];
  let ends = 0;
  const pipeline = {
    feed: (chunk: Uint8Array) => (fed.push(Buffer.from(chunk).toString()), true),
    endOfFeed: () => void ends++,
    drained: () => Promise.resolve(),
    status: () => ({ state: 'idle' }),
  } as unknown as Pipeline;
  return { pipeline, fed, ends: () => ends };
}

async function startServer() {
  const fake = fakePipeline();
  const gate = new FeedGate({ sink: fake.pipeline });
  const counters: HttpFeedCounters = { unauthorized: 0 };
  const server = createBridgeServer({
    pipeline: fake.pipeline,
    publisher: { counters: { published: 0 } } as Publisher,
    gate,
    feedToken: TOKEN,
    httpFeedCounters: counters,
    segmentDurationMs: 2000,
    describe: () => ({ contribution: contributionStatus({ gate, http: counters }) }),
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, ...fake, port: (server.address() as AddressInfo).port };
}

/** A long-running chunked push, like an encoder's: write() sends a chunk, end() finishes it. */
function push(port: number, token: string | undefined) {
  const req = http.request({
    host: '127.0.0.1',
    port,
    path: '/feed',
    method: 'PUT',
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  req.on('error', () => {});
  const response = new Promise<{ status: number; body: string }>((resolve) =>
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }),
  );
  req.flushHeaders();
  return {
    write: (text: string) => new Promise<void>((r) => req.write(text, () => r())),
    end: () => req.end(),
    response,
  };
}
const statusOf = async (port: number): Promise<any> => (await fetch(`http://127.0.0.1:${port}/status`)).json();
const settle = (ms = 50) => new Promise((r) => setTimeout(r, ms));

describe('bridge HTTP server', () => {
  let running: http.Server | undefined;
  afterEach(() => {
    running?.closeAllConnections();
    running?.close();
  });

  it('never times out the feed: one PUT lasts the whole event (Node cuts requests at 300 s by default)', async () => {
    const { server } = await startServer();
    running = server;
    expect(server.requestTimeout).toBe(0);
  });

  it('refuses a push without the feed token (401) or with a wrong one (403), and feeds none of its bytes', async () => {
    const { server, port, fed } = await startServer();
    running = server;
    for (const [token, status, error] of [
      [undefined, 401, 'FEED_UNAUTHORIZED'],
      ['wrong-token', 403, 'FEED_FORBIDDEN'],
      [`${TOKEN}x`, 403, 'FEED_FORBIDDEN'],
    ] as const) {
      const p = push(port, token);
      await p.write('intruder');
      const res = await p.response;
      expect(res.status).toBe(status);
      expect(JSON.parse(res.body).error).toBe(error);
    }
    expect(fed).toEqual([]);
    const status = await statusOf(port);
    expect(status.contribution.refused).toMatchObject({ total: 3, http: { unauthorized: 3, busy: 0 } });
  });

  it('takes one push at a time: a concurrent second push gets 409 and none of its bytes reach the feed', async () => {
    const { server, port, fed, ends } = await startServer();
    running = server;
    const first = push(port, TOKEN);
    await first.write('a1');
    await settle();
    const second = push(port, TOKEN);
    await second.write('B1');
    const refused = await second.response;
    expect(refused.status).toBe(409);
    expect(JSON.parse(refused.body)).toMatchObject({
      error: 'FEED_BUSY',
      active: { input: 'http', peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/) },
    });
    await Promise.race([second.write('B2'), settle(200)]); // a refused push's writes may never complete
    await first.write('a2');
    await settle();
    expect(fed).toEqual(['a1', 'a2']);

    const status = await statusOf(port);
    expect(status.contribution).toMatchObject({
      active: { input: 'http' },
      refused: { total: 1, http: { unauthorized: 0, busy: 1 } },
    });

    // The first push ends: the feed is free again for the next one.
    first.end();
    expect((await first.response).status).toBe(204);
    expect(ends()).toBe(1);
    const third = push(port, TOKEN);
    await third.write('c1');
    await settle();
    third.end();
    expect((await third.response).status).toBe(204);
    expect(fed).toEqual(['a1', 'a2', 'c1']);
  });

  it('a push that breaks off ends the feed, so the sender can reconnect at once', async () => {
    const { server, port, fed, ends } = await startServer();
    running = server;
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: '/feed',
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    req.on('error', () => {});
    req.write('x1');
    await settle();
    req.destroy();
    await settle();
    expect(ends()).toBe(1);
    const again = push(port, TOKEN);
    await again.write('y1');
    await settle();
    again.end();
    expect((await again.response).status).toBe(204);
    expect(fed).toEqual(['x1', 'y1']);
  });
});
