import { spawn, type ChildProcess } from 'node:child_process';

/**
 * SRT contribution: ffmpeg's libsrt listens for one caller at a time and relays the MPEG-TS it
 * receives, unchanged in timing (`-c copy -copyts`, no mux delay), to the bridge's pipeline. SRT
 * does the retransmission within its latency budget; we only relay. When the caller goes away,
 * ffmpeg exits, the pipeline is told the feed ended, and a new listener waits for the next caller.
 */
export interface SrtListenerOptions {
  host: string;
  port: number;
  /** SRT receive latency (ms): how long SRT may spend recovering lost packets. */
  latencyMs: number;
  ffmpegPath: string;
  onData: (chunk: Uint8Array) => void;
  onStreamEnd: () => void;
  log: (message: string) => void;
}

export class SrtListener {
  private readonly opts: SrtListenerOptions;
  private child: ChildProcess | undefined;
  private stopped = false;
  readonly counters = { callers: 0, bytes: 0 };

  constructor(opts: SrtListenerOptions) {
    this.opts = opts;
  }

  get url(): string {
    return `srt://${this.opts.host}:${this.opts.port}`;
  }

  start(): void {
    if (this.stopped) return;
    const { host, port, latencyMs } = this.opts;
    const input = `srt://${host}:${port}?mode=listener&latency=${latencyMs * 1000}&transtype=live`;
    const child = spawn(
      this.opts.ffmpegPath,
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-nostdin',
        '-i',
        input,
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
    let receiving = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      if (!receiving) {
        receiving = true;
        this.counters.callers++;
        this.opts.log(`SRT caller connected on ${this.url}`);
      }
      this.counters.bytes += chunk.byteLength;
      this.opts.onData(chunk);
    });
    child.stderr!.on('data', (d: Buffer) => this.opts.log(`srt ffmpeg: ${String(d).trim()}`));
    child.on('exit', () => {
      if (receiving) {
        this.opts.log('SRT caller went away');
        this.opts.onStreamEnd();
      }
      if (!this.stopped) setTimeout(() => this.start(), 200);
    });
  }

  stop(): void {
    this.stopped = true;
    this.child?.kill('SIGTERM');
  }
}
