import http from 'node:http';
import type { Readable } from 'node:stream';

/**
 * Pushes one contribution feed (MPEG-TS bytes) to several encoder bridges over HTTP, each on its
 * own long-lived chunked PUT with the bridges' feed token. A bridge that goes away (crash,
 * restart) or refuses (busy with another feed, wrong token) does not disturb the others: its
 * connection is re-opened every `retryMs` and it receives the feed from that moment, which is what
 * a venue encoder does for a pipeline that rejoins mid-event.
 */
const ACCEPTED_AFTER_MS = 2000;
/** About 15 s of the synthetic source's 4 Mbit/s feed. */
const DEFAULT_MAX_BACKLOG_BYTES = 8 * 2 ** 20;

/** The bridge's refusal message (JSON `message`), for the log. */
function messageOf(body: string): string {
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message;
    return typeof message === 'string' ? `: ${message}` : '';
  } catch {
    return '';
  }
}

export class HttpPushFanout {
  readonly targets: { url: string; connected: boolean; connects: number; bytes: number }[];
  private readonly requests: (http.ClientRequest | undefined)[];
  private readonly drops: (((why: string, report: boolean) => void) | undefined)[];
  private readonly maxBacklogBytes: number;
  private readonly nextAttempt: number[];
  private readonly retryMs: number;
  private readonly log: (message: string) => void;
  private readonly token: string | undefined;
  /** The last refusal logged per target, so a bridge refusing every retry is logged once. */
  private readonly lastRefusal: (string | undefined)[];

  constructor(
    urls: string[],
    opts: {
      token?: string;
      retryMs?: number;
      /** A bridge this far behind (bytes written but not yet taken) is cut off and pushed to afresh. */
      maxBacklogBytes?: number;
      log?: (message: string) => void;
    } = {},
  ) {
    this.targets = urls.map((url) => ({ url, connected: false, connects: 0, bytes: 0 }));
    this.requests = urls.map(() => undefined);
    this.drops = urls.map(() => undefined);
    this.maxBacklogBytes = opts.maxBacklogBytes ?? DEFAULT_MAX_BACKLOG_BYTES;
    this.nextAttempt = urls.map(() => 0);
    this.retryMs = opts.retryMs ?? 500;
    this.log = opts.log ?? (() => {});
    this.token = opts.token;
    this.lastRefusal = urls.map(() => undefined);
  }

  write(chunk: Uint8Array): void {
    this.targets.forEach((target, i) => {
      if (!this.requests[i] && Date.now() >= this.nextAttempt[i]) this.connect(i);
      const req = this.requests[i];
      // While a bridge is away its share of the live feed is simply not sent: live, not a queue.
      if (req && target.connected && !req.destroyed) {
        // A bridge that cannot keep up would otherwise queue the live feed in this process without
        // bound; seconds behind, its segments are too late anyway: start it again from now.
        if (req.writableLength > this.maxBacklogBytes) {
          this.drops[i]?.(`bridge not keeping up: ${(req.writableLength / 2 ** 20).toFixed(1)} MiB waiting`, true);
          return;
        }
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
      // A connection of its own per push: a pooled socket would never emit 'connect', and the
      // feed would not be sent on it.
      agent: false,
      headers: {
        'content-type': 'video/mp2t',
        ...(this.token === undefined ? {} : { authorization: `Bearer ${this.token}` }),
      },
    });
    this.requests[i] = req;
    const drop = (why: string, report: boolean) => {
      if (this.requests[i] !== req) return;
      // Logged once per distinct problem, not on every retry while it lasts.
      if (report && this.lastRefusal[i] !== why) {
        this.lastRefusal[i] = why;
        this.log(`push to ${target.url} lost (${why}); retrying every ${this.retryMs} ms`);
      }
      this.requests[i] = undefined;
      target.connected = false;
      this.nextAttempt[i] = Date.now() + this.retryMs;
      req.destroy();
    };
    this.drops[i] = drop;
    req.on('socket', (socket) => {
      socket.on('connect', () => {
        target.connected = true;
        target.connects++;
        // A push the bridge has not refused within ACCEPTED_AFTER_MS is taken.
        setTimeout(() => {
          if (this.requests[i] !== req || this.lastRefusal[i] === undefined) return;
          this.lastRefusal[i] = undefined;
          this.log(`push to ${target.url} re-connected`);
        }, ACCEPTED_AFTER_MS).unref();
      });
    });
    let answered = false;
    req.on('error', (err) => {
      if (!answered) drop(err.message, target.connected);
    });
    req.on('response', (res) => {
      // Nothing more is sent on a refused push; the bridge closes it (writes may fail: ignored).
      answered = true;
      target.connected = false;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body = (body + d).slice(0, 500)));
      res.on('error', () => {});
      // 'end' once the answer is read (the bridge closes the connection a moment later); 'close' if it never completes.
      const refused = () => drop(`bridge answered ${res.statusCode}${messageOf(body)}`, true);
      res.on('end', refused);
      res.on('close', refused);
    });
    req.flushHeaders();
  }
}
