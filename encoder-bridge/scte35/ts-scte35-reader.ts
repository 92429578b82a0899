import { unwrapPts } from '../../contract/epoch.ts';
import { adjustedPts, parseSpliceSection, type SpliceSection } from '../../contract/scte35-section.ts';
import { concat } from '../../packager/bmff/box-writer.ts';
import { pesHeader, TS_PACKET_SIZE } from '../ts-timestamps.ts';
import { pmtStreams, programMapPids, SCTE35_STREAM_TYPE, sectionOf, tsPacket } from './psi.ts';

/** One break read from the feed, on the UTC timeline. */
export interface FeedSplice {
  id: number;
  /** UTC (ms) of the OUT point: the feed's PTS is UTC (contract/epoch.ts). */
  outAt: number;
  durationMs: number;
  /** The feed's own splice_info_section, passed on unchanged. */
  section: Uint8Array;
}

/**
 * Reads SCTE-35 from an MPEG-TS contribution feed: finds the PIDs the PMT lists with stream_type
 * 0x86, reassembles their sections (one may span packets), checks and parses each
 * (contract/scte35-section.ts) and hands out every splice_insert that starts a break with a
 * planned duration, timed on the feed's clock: pts_time + pts_adjustment, unwrapped next to our
 * clock as the video PTS is; an immediate splice is timed at the newest video PTS seen. Other
 * sections (an IN, a time_signal, a cancellation) are counted, not handed out: the break's IN is
 * its OUT plus its duration. A section that does not parse is counted and logged.
 */
export class TsScte35Reader {
  private pmtPids = new Set<number>();
  private scte35Pids = new Set<number>();
  private readonly partial = new Map<number, Uint8Array[]>();
  private lastVideoPts: number | undefined;
  private readonly onSplice: (splice: FeedSplice) => void;
  private readonly log: (message: string) => void;
  private readonly now: () => number;
  readonly counters = { sections: 0, splices: 0, ignored: 0, malformed: 0 };

  constructor(opts: { onSplice: (splice: FeedSplice) => void; log: (message: string) => void; now?: () => number }) {
    this.onSplice = opts.onSplice;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
  }

  /** Whole, aligned TS packets. */
  push(packets: Uint8Array): void {
    for (let p = 0; p + TS_PACKET_SIZE <= packets.length; p += TS_PACKET_SIZE) {
      // Most packets continue a video or audio PES: skip them before building anything.
      const start = (packets[p + 1] & 0x40) !== 0;
      if (!start && !this.scte35Pids.has(((packets[p + 1] & 0x1f) << 8) | packets[p + 2])) continue;
      const view = tsPacket(packets.subarray(p, p + TS_PACKET_SIZE));
      if (view) this.packet(view.pid, view.start, view.payload);
    }
  }

  /** End of feed: a new feed may have other tables. */
  endOfFeed(): void {
    this.pmtPids.clear();
    this.scte35Pids.clear();
    this.partial.clear();
    this.lastVideoPts = undefined;
  }

  private packet(pid: number, start: boolean, payload: Uint8Array): void {
    if (pid === 0 && start) {
      const pat = sectionOf(payload);
      if (pat?.[0] === 0x00) this.pmtPids = new Set(programMapPids(pat));
    } else if (this.pmtPids.has(pid) && start) {
      const pmt = sectionOf(payload);
      if (pmt?.[0] === 0x02)
        this.scte35Pids = new Set(
          pmtStreams(pmt)
            .filter((s) => s.streamType === SCTE35_STREAM_TYPE)
            .map((s) => s.pid),
        );
    } else if (this.scte35Pids.has(pid)) {
      this.sectionPart(pid, start, payload);
    } else if (start) {
      const header = pesHeader(payload);
      if (header && (header.streamId & 0xf0) === 0xe0 && header.pts !== undefined) this.lastVideoPts = header.pts;
    }
  }

  private sectionPart(pid: number, start: boolean, payload: Uint8Array): void {
    let parts = this.partial.get(pid);
    if (start) {
      if (payload.length < 1) return;
      parts = [payload.subarray(1 + payload[0])];
    } else if (!parts) {
      return; // the middle of a section whose start we missed
    } else {
      parts.push(payload);
    }
    const bytes = concat(parts);
    if (bytes.length < 3 || bytes[0] === 0xff) {
      this.partial.delete(pid);
      return;
    }
    const length = 3 + (((bytes[1] & 0x0f) << 8) | bytes[2]);
    if (bytes.length < length) {
      this.partial.set(pid, parts);
      return;
    }
    this.partial.delete(pid);
    this.section(bytes.slice(0, length));
  }

  private section(bytes: Uint8Array): void {
    this.counters.sections++;
    let s: SpliceSection;
    try {
      s = parseSpliceSection(bytes);
    } catch (err) {
      this.counters.malformed++;
      this.log(`SCTE-35 section ignored: ${(err as Error).message}`);
      return;
    }
    const pts = s.ptsTime === undefined ? this.lastVideoPts : adjustedPts(s);
    if (s.command !== 'splice_insert' || !s.outOfNetwork || s.breakDuration === undefined || pts === undefined) {
      this.counters.ignored++;
      return;
    }
    this.counters.splices++;
    this.onSplice({
      id: s.spliceEventId!,
      outAt: Math.round(unwrapPts(pts, this.now()).ticks / 90),
      durationMs: Math.round(s.breakDuration / 90),
      section: bytes,
    });
  }
}
