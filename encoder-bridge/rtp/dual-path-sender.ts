import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { TS_PACKET_SIZE, TsPacketAligner } from '../ts-timestamps.ts';
import { Impairment, type ImpairmentOptions } from './impairment.ts';
import { buildRtpPacket, RTP_CLOCK_HZ, TS_PACKETS_PER_RTP } from './rtp-packet.ts';

export interface DualPathSenderOptions {
  /** Path 1, path 2 (ST 2022-7 sends the identical stream to both). */
  destinations: { host: string; port: number }[];
  /** Default: random, as RFC 3550 asks, so a restarted sender is recognised as a new stream. */
  ssrc?: number;
  initialSequence?: number;
  /** Simulated network trouble per path (tests and demos only). */
  impairment?: ImpairmentOptions;
  /** Milliseconds; drives the RTP timestamp and outage windows. */
  now?: () => number;
  /** Every RTP payload in sequence order, before impairment: what a perfect merge must reproduce. */
  onPacket?: (sequenceNumber: number, payload: Uint8Array) => void;
}

export interface SenderPathCounters {
  sent: number;
  /** Random drops (impairment). */
  dropped: number;
  /** Not sent because the path was in an outage window. */
  cut: number;
  errors: number;
}

/**
 * The contribution side of a two-path RTP feed: packs MPEG-TS into RTP (7 TS packets each, as
 * the bytes arrive, so the source's real-time pace carries through) and sends every packet on
 * both paths with the same sequence number and timestamp.
 */
export class DualPathSender {
  readonly counters: { packets: number; bytes: number; paths: SenderPathCounters[] };
  private readonly opts: DualPathSenderOptions;
  private readonly sockets: dgram.Socket[];
  private readonly impairment: Impairment | undefined;
  private readonly now: () => number;
  private readonly ssrc: number;
  private readonly timestampBase = randomInt(2 ** 32);
  private readonly aligner = new TsPacketAligner();
  private sequence: number;
  private startedAt: number | undefined;
  private pending: Uint8Array[] = [];
  private inFlight = 0;
  private idle: (() => void)[] = [];

  constructor(opts: DualPathSenderOptions) {
    if (opts.destinations.length < 1) throw new RangeError('at least one destination');
    this.opts = opts;
    this.now = opts.now ?? (() => performance.now());
    this.ssrc = opts.ssrc ?? randomInt(2 ** 32);
    this.sequence = opts.initialSequence ?? randomInt(0x10000);
    this.impairment = opts.impairment ? new Impairment(opts.impairment, opts.destinations.length) : undefined;
    this.sockets = opts.destinations.map((d) => {
      const socket = dgram.createSocket(isIP(d.host) === 6 ? 'udp6' : 'udp4');
      socket.on('error', () => {}); // counted per send
      return socket;
    });
    this.counters = {
      packets: 0,
      bytes: 0,
      paths: opts.destinations.map(() => ({ sent: 0, dropped: 0, cut: 0, errors: 0 })),
    };
  }

  /** Any slice of the TS byte stream. */
  write(chunk: Uint8Array): void {
    const packets = this.aligner.push(chunk);
    for (let p = 0; p < packets.length; p += TS_PACKET_SIZE) {
      this.pending.push(packets.subarray(p, p + TS_PACKET_SIZE));
      if (this.pending.length === TS_PACKETS_PER_RTP) this.sendPending();
    }
  }

  /** Send what is left (a short last packet) and close the sockets once every send completed. */
  async end(): Promise<void> {
    if (this.pending.length > 0) this.sendPending();
    if (this.inFlight > 0) await new Promise<void>((r) => this.idle.push(r));
    for (const s of this.sockets) s.close();
  }

  /** Send a whole stream (e.g. ffmpeg's stdout) and end when it ends. */
  async pipeFrom(stream: Readable): Promise<void> {
    for await (const chunk of stream) this.write(chunk as Uint8Array);
    await this.end();
  }

  private sendPending(): void {
    const payload = Buffer.concat(this.pending);
    this.pending = [];
    const now = this.now();
    this.startedAt ??= now;
    const elapsedMs = now - this.startedAt;
    const sequenceNumber = this.sequence;
    this.sequence = (this.sequence + 1) & 0xffff;
    this.counters.packets++;
    this.counters.bytes += payload.length;
    this.opts.onPacket?.(sequenceNumber, payload);
    // RFC 2250: a 90 kHz timestamp of the packet's (target) transmission time.
    const timestamp = (this.timestampBase + Math.round((elapsedMs * RTP_CLOCK_HZ) / 1000)) >>> 0;
    const datagram = buildRtpPacket({ sequenceNumber, timestamp, ssrc: this.ssrc, payload });
    const fates = this.impairment?.decide(elapsedMs);
    this.sockets.forEach((socket, i) => {
      const counters = this.counters.paths[i];
      const fate = fates?.[i] ?? 'send';
      if (fate === 'drop') counters.dropped++;
      else if (fate === 'cut') counters.cut++;
      if (fate !== 'send') return;
      const { host, port } = this.opts.destinations[i];
      this.inFlight++;
      socket.send(datagram, port, host, (err) => {
        if (err) counters.errors++;
        else counters.sent++;
        if (--this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    });
  }
}
