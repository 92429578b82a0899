import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { mpegTsPayloadProblem, MP2T_PAYLOAD_TYPE, parseRtpPacket } from './rtp-packet.ts';
import { DEFAULT_SKEW_MS, SeamlessMerger, type MergeCounters } from './seamless-merge.ts';
import type { SourceAllowList } from './source-allow-list.ts';

export interface DualPathReceiverOptions {
  /** UDP port of path 1, path 2 (0: any free port, for tests). */
  ports: number[];
  host?: string;
  skewMs?: number;
  /** Senders (address, port) accepted per path; datagrams from anyone else are dropped and counted. */
  allow: SourceAllowList;
  /**
   * A packet with another SSRC replaces the current stream only once the current SSRC has been
   * silent this long (default 1 s): one spoofed or stray packet never cuts a live stream.
   */
  ssrcSwitchSilenceMs?: number;
  /** How often held packets are checked against the skew window. */
  tickMs?: number;
  /** No packet on any path for this long ends the stream (the next packet starts a new one). */
  idleMs?: number;
  /** Merged MPEG-TS, whole packets, in order: the bridge passes it to `pipeline.feed`. */
  onPayload: (ts: Uint8Array) => void;
  /** A stream ended (new SSRC after silence, or idle): the bridge ends the feed so the next one starts a fresh run. */
  onStreamEnd?: (reason: string) => void;
  log?: (message: string) => void;
  now?: () => number;
}

export interface ContributionStatus {
  protocol: 'rtp';
  merge: 'smpte-2022-7';
  host: string;
  ports: number[];
  skewMs: number;
  active: boolean;
  /** Current (or last) stream's SSRC, hex. */
  ssrc: string | undefined;
  /** Streams seen since start (a new SSRC or a restart after idle starts a new one). */
  streams: number;
  /** The allow-list, as configured (`--rtp-allow`). */
  allow: string;
  /** Datagrams that were not RTP carrying MPEG-TS. */
  invalid: number;
  /** Stragglers of a previous SSRC, ignored. */
  stale: number;
  /** Datagrams dropped on purpose: from a sender not on the allow-list, or of another SSRC while the current one is live. */
  refused: { notAllowed: number; otherSsrc: number; lastNotAllowedFrom?: string };
  /** Packets waiting for an earlier number. */
  buffered: number;
  paths: Record<string, MergeCounters['paths'][number]>;
  merged: { emitted: number; lost: number };
}

/** Previous SSRCs are ignored this long after a switch (their stragglers on the slower path). */
const RETIRE_MS = 2000;
/** The current SSRC must be silent this long before another one takes over. */
export const DEFAULT_SSRC_SWITCH_SILENCE_MS = 1000;
/** The receiver not running for longer than this (ticks come every few ms) is a stall of this process. */
const STALL_MS = 50;

/**
 * Receives the same RTP/MPEG-TS stream on two UDP ports (one per network path) and merges them
 * seamlessly (SMPTE ST 2022-7): a packet lost or late on one path is taken from the other.
 * UDP cannot be paused, so backpressure from the encoder is not propagated: the pipeline buffers.
 */
export class DualPathReceiver {
  private readonly opts: DualPathReceiverOptions;
  private readonly host: string;
  private readonly skewMs: number;
  private readonly now: () => number;
  private readonly sockets: dgram.Socket[] = [];
  private boundPorts: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private merger: SeamlessMerger | undefined;
  private ssrc: number | undefined;
  private active = false;
  private lastPacketAt = 0;
  private readonly retired = new Map<number, number>();
  private streams = 0;
  private invalid = 0;
  private stale = 0;
  private readonly refused: ContributionStatus['refused'] = { notAllowed: 0, otherSsrc: 0 };
  private readonly switchSilenceMs: number;
  private readonly tickMs: number;
  /** Last time this receiver ran (a datagram or a tick), and the stall time excluded so far. */
  private lastRanAt: number | undefined;
  private stalledMs = 0;

  constructor(opts: DualPathReceiverOptions) {
    this.opts = opts;
    this.host = opts.host ?? '127.0.0.1';
    this.skewMs = opts.skewMs ?? DEFAULT_SKEW_MS;
    this.now = opts.now ?? (() => performance.now());
    this.switchSilenceMs = opts.ssrcSwitchSilenceMs ?? DEFAULT_SSRC_SWITCH_SILENCE_MS;
    this.tickMs = opts.tickMs ?? 10;
  }

  /** Bind both sockets; resolves with the ports actually bound. */
  async start(): Promise<number[]> {
    const type = isIP(this.host) === 6 ? 'udp6' : 'udp4';
    for (const [path, port] of this.opts.ports.entries()) {
      const socket = dgram.createSocket({ type, reuseAddr: false });
      this.sockets.push(socket);
      socket.on('message', (msg, from) => this.onDatagram(path, msg, from));
      socket.on('error', (err) => this.opts.log?.(`rtp path ${path + 1}: ${err.message}`));
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, this.host, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      try {
        // Room for a burst while the event loop is busy (clamped by the kernel's rmem_max).
        socket.setRecvBufferSize(4 * 1024 * 1024);
      } catch {
        // not fatal: the default buffer works at contribution bitrates on loopback
      }
      this.boundPorts.push(socket.address().port);
    }
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
    this.opts.log?.(
      `rtp: listening on ${this.boundPorts.map((p) => `${this.host}:${p}`).join(' + ')} (2022-7 merge, skew window ${this.skewMs} ms), senders allowed: ${this.opts.allow}`,
    );
    return this.boundPorts;
  }

  /** Close the sockets and flush what is held. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    const sockets = this.sockets.splice(0); // stop() twice is harmless
    await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.endStream('receiver stopped');
  }

  status(): ContributionStatus {
    const c = this.merger?.counters;
    return {
      protocol: 'rtp',
      merge: 'smpte-2022-7',
      host: this.host,
      ports: this.boundPorts.length > 0 ? this.boundPorts : this.opts.ports,
      skewMs: this.skewMs,
      active: this.active,
      ssrc: this.ssrc?.toString(16).padStart(8, '0'),
      streams: this.streams,
      allow: String(this.opts.allow),
      invalid: this.invalid,
      stale: this.stale,
      refused: { ...this.refused },
      buffered: this.merger?.buffered ?? 0,
      paths: Object.fromEntries(
        this.opts.ports.map((_, i) => [
          `path${i + 1}`,
          { ...(c?.paths[i] ?? { received: 0, used: 0, duplicate: 0, late: 0, lost: 0 }) },
        ]),
      ),
      merged: { emitted: c?.emitted ?? 0, lost: c?.lost ?? 0 },
    };
  }

  private onDatagram(path: number, msg: Buffer, from: { address: string; port: number }): void {
    if (!this.opts.allow.allows(path, from.address, from.port)) {
      const sender = from.address.includes(':') ? `[${from.address}]:${from.port}` : `${from.address}:${from.port}`;
      this.refused.lastNotAllowedFrom = sender;
      if (this.refused.notAllowed++ < 5 || this.refused.notAllowed % 1000 === 0)
        this.opts.log?.(
          `rtp path ${path + 1}: dropped datagram from ${sender}, not on the allow-list (${this.refused.notAllowed} so far)`,
        );
      return;
    }
    const parsed = parseRtpPacket(msg);
    const problem = !parsed.ok
      ? parsed.reason
      : parsed.packet.payloadType !== MP2T_PAYLOAD_TYPE
        ? `payload type ${parsed.packet.payloadType}, expected ${MP2T_PAYLOAD_TYPE} (MPEG-TS)`
        : mpegTsPayloadProblem(parsed.packet.payload);
    if (problem || !parsed.ok) {
      // Log the first few and then every thousandth, so a misconfigured sender cannot flood the log.
      if (this.invalid++ < 5 || this.invalid % 1000 === 0)
        this.opts.log?.(`rtp path ${path + 1}: dropped datagram (${this.invalid} so far): ${problem}`);
      return;
    }
    const { ssrc, sequenceNumber, payload } = parsed.packet;
    this.noteRunning();
    const now = this.now();
    if (ssrc !== this.ssrc || !this.active) {
      if ((this.retired.get(ssrc) ?? -Infinity) > now) {
        this.stale++;
        return;
      }
      if (this.active && this.ssrc !== undefined) {
        // The live stream keeps the feed until it falls silent: a stray or spoofed packet with a
        // new SSRC is dropped instead of cutting it (a restarted sender loses its first second).
        if (now - this.lastPacketAt < this.switchSilenceMs) {
          if (this.refused.otherSsrc++ < 5 || this.refused.otherSsrc % 1000 === 0)
            this.opts.log?.(
              `rtp path ${path + 1}: dropped packet of SSRC ${ssrc.toString(16)} while ${this.ssrc.toString(16)} is live (${this.refused.otherSsrc} so far)`,
            );
          return;
        }
        this.endStream(`new SSRC ${ssrc.toString(16)}`);
        for (const [old, until] of this.retired) if (until <= now) this.retired.delete(old);
        this.retired.set(this.ssrc, now + RETIRE_MS);
      }
      this.startStream(ssrc);
    }
    this.lastPacketAt = now;
    this.deliver(this.merger!.push(path, sequenceNumber, payload));
  }

  private startStream(ssrc: number): void {
    this.ssrc = ssrc;
    this.active = true;
    this.streams++;
    this.merger = new SeamlessMerger({
      paths: this.opts.ports.length,
      skewMs: this.skewMs,
      now: () => this.mergeNow(),
    });
    this.opts.log?.(`rtp: stream ${ssrc.toString(16).padStart(8, '0')} started`);
  }

  private endStream(reason: string): void {
    if (!this.active || !this.merger) return;
    this.deliver(this.merger.flush());
    this.active = false;
    const c = this.merger.counters;
    this.opts.log?.(
      `rtp: stream ${this.ssrc?.toString(16)} ended (${reason}): emitted ${c.emitted}, lost ${c.lost}, ${c.paths.map((p, i) => `path ${i + 1} lost ${p.lost}`).join(', ')}`,
    );
    this.opts.onStreamEnd?.(reason);
  }

  /**
   * The merger's clock leaves out the time this process was not running (a long GC, or
   * descheduled on a loaded machine): datagrams that queued in the socket buffers meanwhile are
   * still unread, so a stall must not count as waiting for them — it would declare lost a packet
   * whose copy on the other path is already here.
   */
  private mergeNow(): number {
    return this.now() - this.stalledMs;
  }

  /** Called whenever the receiver runs; a gap much longer than the tick interval was a stall. */
  private noteRunning(): void {
    const now = this.now();
    if (this.lastRanAt !== undefined) {
      const gap = now - this.lastRanAt;
      if (gap > Math.max(STALL_MS, 5 * this.tickMs)) this.stalledMs += gap - this.tickMs;
    }
    this.lastRanAt = now;
  }

  private tick(): void {
    this.noteRunning();
    if (!this.active || !this.merger) return;
    this.deliver(this.merger.tick());
    if (this.now() - this.lastPacketAt > (this.opts.idleMs ?? 5000)) this.endStream('idle');
  }

  private deliver(packets: { payload: Uint8Array }[]): void {
    for (const p of packets) this.opts.onPayload(p.payload);
  }
}
