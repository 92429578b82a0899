import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { BridgeReport } from '../contract/control-state.ts';

/**
 * The bridge as a spoke of the hub (DESIGN §9; docs/control-plane.md "Provisioning"): with
 * `--hub-url` (HUB_URL, the Worker's base URL) the bridge keeps a WebSocket open to
 * `${hubUrl}/api/hub/spoke` with `Authorization: Bearer <its scoped ingest token>` and sends
 * - a BridgeReport (contract/control-state.ts, validated before it is sent) every 2 s and at once
 *   when the ffmpeg state or the input's presence changes;
 * - every ~4 s a 160-pixel-wide JPEG of the lowest rung, as a binary message: one keyframe of a
 *   just-published segment decoded by a short-lived, low-priority ffmpeg.
 * Nothing here can block or slow the media path: reports are built from counters, the socket's
 * sends never wait, a congested socket skips reports instead of queueing them, the thumbnail
 * decoder runs at most one at a time at nice 10 with a 3 s limit, and a lost connection is retried
 * with backoff (1 s doubling to 30 s) while the bridge goes on publishing.
 */

/** What the bridge knows at one moment, from its own counters (bridge.ts builds it). */
export interface ReportInput {
  event: string;
  pipeline: string;
  now: number;
  /** Pipeline.status(): only the fields a report needs. */
  encoder: {
    state: string;
    ffmpegRestarts: number;
    frameRate?: string;
    utcCarrier?: 'sei' | 'pts' | 'arrival' | null;
    refusal?: string | null;
  };
  /** Publisher.counters totals. */
  publisher: { published: number; failed: number; lastK: number | undefined };
  /** FeedGate.status().active: which input holds the feed and when its last bytes came. */
  feed: { input: string; lastDataAgoMs: number } | null;
  /** DualPathReceiver.status() when RTP contribution is configured. */
  rtp?: {
    paths: Record<string, { received: number; used: number }>;
    merged: { lost: number };
  };
  latenessMs: number | null;
  bitrateKbps: Record<string, number>;
}

/** A feed whose last bytes are older than this is "not present" (BridgeReport.inputPresent). */
export const INPUT_PRESENT_MS = 2000;

/** "30", "30000/1001" → 30, 29.97 (two decimals); anything else → null. */
export function frameRateNumber(rate: string | undefined): number | null {
  if (!rate) return null;
  const [n, d = '1'] = rate.split('/');
  const value = Number(n) / Number(d);
  return Number.isFinite(value) && value > 0 ? Math.round(value * 100) / 100 : null;
}

/** The report the hub receives, validated against its schema (a bug here throws, it never sends garbage). */
export function buildBridgeReport(input: ReportInput): BridgeReport {
  // A refused feed (no usable UTC) runs no ffmpeg: idle, with the refusal saying why.
  const state =
    input.encoder.state === 'encoding'
      ? 'encoding'
      : input.encoder.state === 'idle' || input.encoder.state === 'refused'
        ? 'idle'
        : 'restarting';
  const p1 = input.rtp?.paths.path1;
  const p2 = input.rtp?.paths.path2;
  return BridgeReport.parse({
    kind: 'bridge',
    event: input.event,
    pipeline: input.pipeline,
    at: input.now,
    state,
    inputPresent: input.feed !== null && input.feed.lastDataAgoMs < INPUT_PRESENT_MS,
    input: input.feed?.input ?? null,
    frameRate: frameRateNumber(input.encoder.frameRate),
    utcCarrier: input.encoder.utcCarrier ?? null,
    refusal: input.encoder.refusal ?? null,
    lastK: input.publisher.lastK ?? null,
    latenessMs: input.latenessMs,
    segmentsPublished: input.publisher.published,
    segmentsFailed: input.publisher.failed,
    ffmpegRestarts: input.encoder.ffmpegRestarts,
    bitrateKbps: input.bitrateKbps,
    paths: input.rtp
      ? {
          path1Packets: p1?.received ?? 0,
          path2Packets: p2?.received ?? 0,
          // Packets the 2022-7 merge took from path 2 (path 1 lacked them or was later).
          recoveredFromPath2: p2?.used ?? 0,
          lost: input.rtp.merged.lost,
        }
      : null,
  } satisfies BridgeReport);
}

/** The spoke socket's URL: http(s) → ws(s), plus the hub's path. */
export function spokeUrl(hubUrl: string): string {
  const url = new URL('/api/hub/spoke', hubUrl.endsWith('/') ? hubUrl : `${hubUrl}/`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** Reconnect delay after `failures` consecutive failures: 1 s doubling to 30 s. */
export function backoffMs(failures: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, failures - 1));
}

/** Node's WebSocket (undici) takes request headers in a second argument; the DOM typing does not say so. */
type WebSocketWithHeaders = new (url: string, init: { headers: Record<string, string> }) => WebSocket;

export interface HubReporterOptions {
  hubUrl: string;
  /** The bridge's scoped ingest token: the hub knows the bridge by it. */
  token: string;
  event: string;
  pipeline: string;
  segmentDurationMs: number;
  /** What the report is built from, read every tick. */
  snapshot: () => Omit<ReportInput, 'event' | 'pipeline' | 'now' | 'latenessMs' | 'bitrateKbps'>;
  /** Video track id of the lowest rung (thumbnails); undefined: no thumbnails. */
  thumbnailTrack?: string;
  ffmpegPath?: string;
  log: (message: string) => void;
  intervalMs?: number;
  thumbnailEveryMs?: number;
  /** For tests: the WebSocket class (default: the global one, with the Authorization header). */
  WebSocket?: WebSocketWithHeaders;
}

/** A congested socket (the hub slow, the network bad) skips sends above this many queued bytes. */
const MAX_BUFFERED_BYTES = 256 * 1024;
const THUMBNAIL_TIMEOUT_MS = 3000;
const MAX_THUMBNAIL_BYTES = 200 * 1024;
/** How often state and input presence are looked at for an immediate report on change. */
const CHANGE_CHECK_MS = 250;

export class HubReporter {
  private readonly opts: HubReporterOptions;
  private ws: WebSocket | undefined;
  private failures = 0;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private lastSentAt = 0;
  private lastKey = '';
  private lastThumbnailAt = 0;
  private thumbnailBusy = false;
  private latenessMs: number | null = null;
  private newestK = -1;
  private readonly bitrateKbps: Record<string, number> = {};
  private readonly inits = new Map<string, Uint8Array>();
  private latestSegment: { track: string; k: number; bytes: Uint8Array } | undefined;
  private thumbnailK = -1;
  readonly counters = { connects: 0, reportsSent: 0, reportsSkipped: 0, thumbnailsSent: 0, thumbnailsFailed: 0 };

  constructor(opts: HubReporterOptions) {
    this.opts = opts;
  }

  start(): void {
    this.connect();
    this.tickTimer = setInterval(() => this.tick(), CHANGE_CHECK_MS);
    this.tickTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.tickTimer);
    clearTimeout(this.reconnectTimer);
    try {
      this.ws?.close(1000, 'bridge stopping');
    } catch {
      // not open
    }
  }

  /** Publisher observer: an init of a track (kept for thumbnails). */
  onInit(track: string, bytes: Uint8Array): void {
    if (track === this.opts.thumbnailTrack) this.inits.set(track, bytes);
  }

  /** Publisher observer: a segment was published (ok: at least one region stored it). */
  onSegment(track: string, kind: 'video' | 'audio', k: number, bytes: Uint8Array, ok: boolean, now = Date.now()): void {
    this.bitrateKbps[track] = Math.round((bytes.byteLength * 8) / this.opts.segmentDurationMs);
    if (!ok) return;
    if (k >= this.newestK) {
      this.newestK = k;
      // After the segment's end on the UTC grid ((K + 1)·D): how long publishing took.
      this.latenessMs = Math.max(0, now - (k + 1) * this.opts.segmentDurationMs);
    }
    if (kind === 'video' && track === this.opts.thumbnailTrack) this.latestSegment = { track, k, bytes };
  }

  /** The report as it would be sent now. */
  report(now = Date.now()): BridgeReport {
    return buildBridgeReport({
      ...this.opts.snapshot(),
      event: this.opts.event,
      pipeline: this.opts.pipeline,
      now,
      latenessMs: this.latenessMs,
      bitrateKbps: { ...this.bitrateKbps },
    });
  }

  private connect(): void {
    if (this.stopped) return;
    const Ws = this.opts.WebSocket ?? (globalThis.WebSocket as unknown as WebSocketWithHeaders);
    let ws: WebSocket;
    try {
      ws = new Ws(spokeUrl(this.opts.hubUrl), { headers: { authorization: `Bearer ${this.opts.token}` } });
    } catch (err) {
      this.opts.log(`hub: cannot open ${spokeUrl(this.opts.hubUrl)}: ${(err as Error).message}`);
      this.scheduleReconnect();
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.addEventListener('open', () => {
      if (this.failures > 0 || this.counters.connects === 0)
        this.opts.log(`hub: reporting to ${spokeUrl(this.opts.hubUrl)}`);
      this.failures = 0;
      this.counters.connects++;
      this.lastKey = '';
      this.send(this.report());
    });
    ws.addEventListener('close', (e) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      if (this.stopped) return;
      this.failures++;
      // Logged on the first failure and then rarely: a hub that is away must not flood the log.
      if (this.failures === 1 || this.failures % 20 === 0)
        this.opts.log(
          `hub: spoke socket closed (${e.code}${e.reason ? ` ${e.reason}` : ''}); retrying in ${backoffMs(this.failures) / 1000} s`,
        );
      this.scheduleReconnect();
    });
    ws.addEventListener('error', () => {
      // 'close' follows and reconnects.
    });
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), backoffMs(Math.max(1, this.failures)));
    this.reconnectTimer.unref();
  }

  private tick(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const now = Date.now();
    let report: BridgeReport;
    try {
      report = this.report(now);
    } catch (err) {
      this.opts.log(`hub: report not built: ${(err as Error).message}`);
      return;
    }
    const key = `${report.state}/${report.inputPresent}`;
    if (key !== this.lastKey || now - this.lastSentAt >= (this.opts.intervalMs ?? 2000)) this.send(report);
    if (now - this.lastThumbnailAt >= (this.opts.thumbnailEveryMs ?? 4000)) void this.thumbnail(now);
  }

  private send(report: BridgeReport): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.counters.reportsSkipped++;
      return;
    }
    ws.send(JSON.stringify(report));
    this.counters.reportsSent++;
    this.lastSentAt = report.at;
    this.lastKey = `${report.state}/${report.inputPresent}`;
  }

  /** One keyframe of the newest lowest-rung segment → a 160-pixel JPEG, sent as a binary message. */
  private async thumbnail(now: number): Promise<void> {
    const seg = this.latestSegment;
    const init = seg && this.inits.get(seg.track);
    if (this.thumbnailBusy || !seg || !init || seg.k === this.thumbnailK) return;
    if ((this.ws?.bufferedAmount ?? 0) > MAX_BUFFERED_BYTES / 4) return;
    this.thumbnailBusy = true;
    this.lastThumbnailAt = now;
    this.thumbnailK = seg.k;
    try {
      const jpeg = await decodeThumbnail(this.opts.ffmpegPath ?? 'ffmpeg', init, seg.bytes);
      const ws = this.ws;
      if (ws && ws.readyState === WebSocket.OPEN) {
        ws.send(jpeg);
        this.counters.thumbnailsSent++;
      }
    } catch (err) {
      if (this.counters.thumbnailsFailed++ % 50 === 0)
        this.opts.log(`hub: thumbnail failed: ${(err as Error).message}`);
    } finally {
      this.thumbnailBusy = false;
    }
  }
}

/** Decode the first frame of init + segment into a 160-pixel-wide JPEG (low priority, 3 s at most). */
export function decodeThumbnail(ffmpegPath: string, init: Uint8Array, segment: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      ffmpegPath,
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-threads',
        '1',
        '-i',
        'pipe:0',
        '-frames:v',
        '1',
        '-vf',
        'scale=160:-2',
        '-q:v',
        '6',
        '-f',
        'mjpeg',
        'pipe:1',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    try {
      if (child.pid) setPriority(child.pid, 10);
    } catch {
      // not allowed here: it still runs, briefly
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), THUMBNAIL_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_THUMBNAIL_BYTES) child.kill('SIGKILL');
      else chunks.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d).slice(-500);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const jpeg = Buffer.concat(chunks);
      if (code === 0 && jpeg.length > 3 && jpeg[0] === 0xff && jpeg[1] === 0xd8 && jpeg[2] === 0xff)
        resolve(new Uint8Array(jpeg));
      else reject(new Error(`ffmpeg ${signal ?? `exit ${code}`}: ${stderr.trim() || 'no JPEG'}`));
    });
    // ffmpeg stops reading after the first frame: EPIPE is expected.
    child.stdin.on('error', () => {});
    child.stdin.write(init);
    child.stdin.end(segment);
  });
}
