import { spawn, type ChildProcess } from 'node:child_process';
import type { FeedGate, FeedLease } from './feed-gate.ts';

/**
 * SRT contribution: ffmpeg's libsrt listens for one caller at a time and relays the MPEG-TS it
 * receives, unchanged in timing (`-c copy -copyts`, no mux delay), to the bridge's pipeline. SRT
 * does the retransmission within its latency budget; we only relay. When the caller goes away,
 * ffmpeg exits, the pipeline is told the feed ended, and a new listener waits for the next caller.
 *
 * The listener enforces encryption with a passphrase (SRT's AES key wrap, `pbkeylen` bytes): a
 * caller without it, or with another one, is rejected in the handshake by libsrt and never
 * reaches the bridge; libsrt's rejection line on stderr is counted. A caller that connects while
 * another contribution feed (HTTP push, RTP) holds the pipeline is disconnected and counted.
 */
export interface SrtListenerOptions {
  host: string;
  port: number;
  /** SRT receive latency (ms): how long SRT may spend recovering lost packets. */
  latencyMs: number;
  /** Callers must use this passphrase (10–79 characters); encryption is enforced. */
  passphrase: string;
  /** AES key length in bytes: 16, 24 or 32. */
  pbkeylen: 16 | 24 | 32;
  ffmpegPath: string;
  /** Hands the pipeline to one feed at a time (feed-gate.ts). */
  gate: FeedGate;
  log: (message: string) => void;
}

export interface SrtCounters {
  /** Callers whose stream reached the pipeline. */
  callers: number;
  bytes: number;
  /** Handshakes libsrt rejected (no passphrase, wrong passphrase, …). */
  rejected: number;
  /** The last rejection's reason as libsrt words it (e.g. "ERROR:BADSECRET"). */
  lastRejection?: string;
  /** Callers disconnected because another contribution feed was active. */
  busy: number;
}

export class SrtListener {
  private readonly opts: SrtListenerOptions;
  private child: ChildProcess | undefined;
  private stopped = false;
  readonly counters: SrtCounters = { callers: 0, bytes: 0, rejected: 0, busy: 0 };

  constructor(opts: SrtListenerOptions) {
    this.opts = opts;
  }

  get url(): string {
    return `srt://${this.opts.host}:${this.opts.port}`;
  }

  start(): void {
    if (this.stopped) return;
    const { host, port, latencyMs, passphrase, pbkeylen } = this.opts;
    // Protocol options rather than URL query: the passphrase needs no URL escaping this way.
    const child = spawn(
      this.opts.ffmpegPath,
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-nostdin',
        '-mode',
        'listener',
        '-transtype',
        'live',
        '-latency',
        String(latencyMs * 1000),
        '-passphrase',
        passphrase,
        '-pbkeylen',
        String(pbkeylen),
        '-i',
        `srt://${host}:${port}`,
        '-map',
        '0',
        '-c',
        'copy',
        '-copyts',
        '-f',
        'mpegts',
        '-muxdelay',
        '0',
        '-muxpreload',
        '0',
        'pipe:1',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    let lease: FeedLease | undefined;
    let refused = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      if (refused) return;
      if (!lease) {
        lease = this.opts.gate.claim('srt', `caller on ${this.url}`, () => child.kill('SIGTERM'));
        if (!lease) {
          refused = true;
          this.counters.busy++;
          this.opts.log(`SRT caller on ${this.url} disconnected: another contribution feed is active`);
          child.kill('SIGTERM');
          return;
        }
        this.counters.callers++;
        this.opts.log(`SRT caller connected on ${this.url}`);
      }
      this.counters.bytes += chunk.byteLength;
      lease.feed(chunk); // the relay cannot be paused usefully: SRT is live; the pipeline buffers
    });
    let rest = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      const lines = (rest + text).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) this.onStderrLine(line.trim());
    });
    child.on('exit', () => {
      if (lease?.active) {
        this.opts.log('SRT caller went away');
        lease.end();
      }
      if (!this.stopped) setTimeout(() => this.start(), 200);
    });
  }

  stop(): void {
    this.stopped = true;
    this.child?.kill('SIGTERM');
  }

  private onStderrLine(line: string): void {
    if (line === '') return;
    const rejected = /connection rejected due to:\s*(.*)$/i.exec(line);
    if (rejected) {
      this.counters.rejected++;
      this.counters.lastRejection = rejected[1];
      // A caller retrying with a wrong passphrase must not flood the log.
      if (this.counters.rejected <= 5 || this.counters.rejected % 100 === 0)
        this.opts.log(
          `SRT caller rejected on ${this.url}: ${rejected[1]} (${this.counters.rejected} so far; check the caller's passphrase)`,
        );
      return;
    }
    // libsrt's own warnings around a rejection (the lines above and below it) add nothing.
    if (/SRT\.cn:|processConnectRequest|KMREQ|HS EXT/.test(line)) return;
    this.opts.log(`srt ffmpeg: ${line}`);
  }
}
