import http from 'node:http';
import type { Pipeline } from './pipeline.ts';
import type { Publisher } from './publisher.ts';

/**
 * The bridge's HTTP face: the contribution encoder pushes MPEG-TS to /feed (PUT or POST,
 * chunked); /health answers 200 while segments flow (for a container health check); /status
 * shows progress for people and the Control Room.
 */
export function createBridgeServer(opts: {
  pipeline: Pipeline;
  publisher: Publisher;
  segmentDurationMs: number;
  describe: () => Record<string, unknown>;
}): http.Server {
  const { pipeline, publisher } = opts;
  let lastPublished = { count: 0, at: Date.now() };

  // requestTimeout 0: the feed is one PUT that lasts the whole event. Node's default (300 s since
  // Node 18) cut it every five minutes: the encoder restarted and a segment or two went missing.
  return http.createServer({ requestTimeout: 0 }, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://bridge');
    if (url.pathname === '/feed' && (req.method === 'PUT' || req.method === 'POST')) {
      req.on('data', (chunk: Buffer) => {
        if (!pipeline.feed(chunk)) {
          req.pause();
          void pipeline.drained().then(() => req.resume());
        }
      });
      req.on('end', () => {
        pipeline.endOfFeed();
        res.writeHead(204).end();
      });
      req.on('error', () => pipeline.endOfFeed());
      return;
    }
    if (url.pathname === '/health' && req.method === 'GET') {
      const now = Date.now();
      if (publisher.counters.published > lastPublished.count)
        lastPublished = { count: publisher.counters.published, at: now };
      const healthy = now - lastPublished.at < 3 * opts.segmentDurationMs && pipeline.status().state === 'encoding';
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ healthy, lastPublishAgoMs: now - lastPublished.at }));
      return;
    }
    if (url.pathname === '/status' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
      res.end(
        JSON.stringify({ ...opts.describe(), pipeline: pipeline.status(), publish: publisher.counters }, null, 2),
      );
      return;
    }
    res
      .writeHead(404, { 'content-type': 'text/plain' })
      .end('not found: the feed goes to PUT /feed; see /status and /health\n');
  });
}
