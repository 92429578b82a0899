import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { FeedGate } from './feed-gate.ts';
import type { Pipeline } from './pipeline.ts';
import type { Publisher } from './publisher.ts';

/**
 * The bridge's HTTP face: the contribution encoder pushes MPEG-TS to /feed (PUT or POST,
 * chunked, `Authorization: Bearer <feed token>`, one push at a time); /health answers 200 while
 * segments flow (for a container health check); /status shows progress for people and the
 * Control Room.
 */
export function createBridgeServer(opts: {
  pipeline: Pipeline;
  publisher: Publisher;
  /** Hands the feed to one sender at a time (feed-gate.ts). */
  gate: FeedGate;
  /** The bearer token a push to /feed must carry. */
  feedToken: string;
  /** Pushes refused for a missing or wrong token, shown in /status (busy refusals are counted by the gate). */
  httpFeedCounters: HttpFeedCounters;
  segmentDurationMs: number;
  describe: () => Record<string, unknown>;
}): http.Server {
  const { pipeline, publisher, gate } = opts;
  let lastPublished = { count: 0, at: Date.now() };
  const refused = opts.httpFeedCounters;
  const token = Buffer.from(opts.feedToken);

  // requestTimeout 0: the feed is one PUT that lasts the whole event. Node's default (300 s since
  // Node 18) cut it every five minutes: the encoder restarted and a segment or two went missing.
  return http.createServer({ requestTimeout: 0 }, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://bridge');
    if (url.pathname === '/feed' && (req.method === 'PUT' || req.method === 'POST')) {
      const peer = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
      const presented = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (presented === undefined || !sameSecret(Buffer.from(presented), token)) {
        refused.unauthorized++;
        return refuse(req, res, presented === undefined ? 401 : 403, {
          error: presented === undefined ? 'FEED_UNAUTHORIZED' : 'FEED_FORBIDDEN',
          message: `the feed needs "Authorization: Bearer <feed token>" (--feed-token / BRIDGE_FEED_TOKEN)${presented === undefined ? '' : '; this token is wrong'}`,
        });
      }
      const lease = gate.claim('http', peer, () => req.destroy());
      if (!lease) {
        const active = gate.status().active;
        return refuse(req, res, 409, {
          error: 'FEED_BUSY',
          message: `another contribution feed is active (${active?.input} from ${active?.peer}); the bridge takes one feed at a time`,
          active,
        });
      }
      req.on('data', (chunk: Buffer) => {
        if (!lease.feed(chunk)) {
          req.pause();
          void pipeline.drained().then(() => {
            lease.touch();
            req.resume();
          });
        }
      });
      req.on('end', () => {
        lease.end();
        res.writeHead(204).end();
      });
      req.on('close', () => lease.end()); // aborted, reset or taken over: the feed ended either way
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

export interface HttpFeedCounters {
  /** Pushes without the feed token (401) or with a wrong one (403). */
  unauthorized: number;
}

function sameSecret(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Answer a refused push at once and read nothing of its body into the feed. The connection closes
 * a moment later (closing with unread bytes at once would reset it and the sender might not see
 * the answer).
 */
function refuse(req: http.IncomingMessage, res: http.ServerResponse, status: number, body: object): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    connection: 'close',
    ...(status === 401 ? { 'www-authenticate': 'Bearer realm="feed"' } : {}),
  });
  res.end(`${JSON.stringify(body)}\n`);
  req.resume(); // discard
  setTimeout(() => req.destroy(), 1000).unref();
}
