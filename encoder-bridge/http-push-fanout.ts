import http from 'node:http';
import type { Readable } from 'node:stream';

/**
 * Pushes one contribution feed (MPEG-TS bytes) to several encoder bridges over HTTP, each on its
 * own long-lived chunked PUT. A bridge that goes away (crash, restart) does not disturb the
 * others: its connection is re-opened every `retryMs` and it receives the feed from that moment,
 * which is what a venue encoder does for a pipeline that rejoins mid-event.
 */
export class HttpPushFanout {
  readonly targets: { url: string; connected: boolean; connects: number; bytes: number }[];
  private readonly requests: (http.ClientRequest | undefined)[];
  private readonly nextAttempt: number[];
  private readonly retryMs: number;
  private readonly log: (message: string) => void;

  constructor(urls: string[], opts: { retryMs?: number; log?: (message: string) => void } = {}) {
    this.targets = urls.map((url) => ({ url, connected: false, connects: 0, bytes: 0 }));
    this.requests = urls.map(() => undefined);
    this.nextAttempt = urls.map(() => 0);
    this.retryMs = opts.retryMs ?? 500;
    this.log = opts.log ?? (() => {});
  }

  write(chunk: Uint8Array): void {
    this.targets.forEach((target, i) => {
      if (!this.requests[i] && Date.now() >= this.nextAttempt[i]) this.connect(i);
      const req = this.requests[i];
      // While a bridge is away its share of the live feed is simply not sent: live, not a queue.
      if (req && target.connected && !req.destroyed) {
        req.write(chunk);
        target.bytes += chunk.byteLength;
      }
    });
  }

  /** Send everything from a readable (ffmpeg's stdout); resolves when it ends. */
  pipeFrom(stream: Readable): Promise<void> {
    return new Promise((resolve) => {
      stream.on('data', (chunk: Buffer) => this.write(chunk));
      stream.on('end', () => {
        this.end();
        resolve();
      });
    });
  }

  end(): void {
    for (const req of this.requests) req?.end();
  }

  private connect(i: number): void {
    const target = this.targets[i];
    const url = new URL(target.url);
    const req = http.request({
      host: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      method: 'PUT',
      headers: { 'content-type': 'video/mp2t' },
    });
    this.requests[i] = req;
    const drop = (why: string) => {
      if (this.requests[i] !== req) return;
      if (target.connected) this.log(`push to ${target.url} lost (${why}); retrying every ${this.retryMs} ms`);
      this.requests[i] = undefined;
      target.connected = false;
      this.nextAttempt[i] = Date.now() + this.retryMs;
      req.destroy();
    };
    req.on('socket', (socket) => {
      socket.on('connect', () => {
        target.connected = true;
        target.connects++;
        if (target.connects > 1) this.log(`push to ${target.url} re-connected`);
      });
    });
    req.on('error', (err) => drop(err.message));
    req.on('response', (res) => {
      res.resume();
      drop(`bridge answered ${res.statusCode}`);
    });
    req.flushHeaders();
  }
}
