import { PTS_WRAP } from '../../contract/epoch.ts';
import { concat } from '../../packager/bmff/box-writer.ts';
import { pesHeader, TS_PACKET_SIZE } from '../ts-timestamps.ts';
import { field1PairsOfSei } from './a53-sei.ts';
import type { CcPair } from './pop-on-encoder.ts';

/** One picture's 608 field-1 pairs and its PTS (33-bit, 90 kHz). */
export interface PictureCc {
  pts: number;
  pairs: CcPair[];
}

/**
 * Reads the A/53 caption data of the H.264 video in an MPEG-TS feed: reassembles the video PES
 * packets (the first PID whose PES has a video stream id), finds SEI NAL units in each, and hands
 * out each picture's field-1 pairs with the PES's PTS, in presentation order.
 *
 * Captions are in decode order in the stream; with B-frames that is not the order they are
 * shown, so pictures wait in a small buffer sorted by PTS (`reorderDepth`, more than any GOP's
 * reordering delay: 16 covers a B-pyramid) before they are handed out.
 *
 * The video PID is followed when it changes (a new PMT, an encoder restarted with other PIDs):
 * once another PID has carried video PES spanning `switchAfterMs` of its own PTS while the
 * locked PID carried none, the reader hands out what it holds, calls `onStreamChange` and reads
 * the other PID from then on. Measured in the other stream's PTS, not the wall clock, so it works
 * however fast the feed arrives, and a second program on another clock never takes over while the
 * locked video keeps flowing.
 */
export class TsCcReader {
  private videoPid: number | undefined;
  private pes: Uint8Array[] = [];
  private readonly waiting: PictureCc[] = [];
  private readonly reorderDepth: number;
  private readonly switchAfterTicks: number;
  private readonly onPicture: (picture: PictureCc) => void;
  private readonly onStreamChange: ((pid: number) => void) | undefined;
  private readonly onSei: ((pts: number, seiNals: Uint8Array[]) => void) | undefined;
  /** Another PID carrying video since the locked PID's last PES: its first PTS since then. */
  private rival: { pid: number; firstPts: number } | undefined;

  constructor(opts: {
    onPicture: (picture: PictureCc) => void;
    onStreamChange?: (pid: number) => void;
    /** Every video PES, in decode order, as soon as it is whole: its PTS and its SEI NAL units (the UTC SEI, sei-utc-feed.ts). */
    onSei?: (pts: number, seiNals: Uint8Array[]) => void;
    reorderDepth?: number;
    switchAfterMs?: number;
  }) {
    this.onPicture = opts.onPicture;
    this.onStreamChange = opts.onStreamChange;
    this.onSei = opts.onSei;
    this.reorderDepth = opts.reorderDepth ?? 16;
    this.switchAfterTicks = (opts.switchAfterMs ?? 2000) * 90;
  }

  /** The PID read now (undefined before the first video PES). */
  get pid(): number | undefined {
    return this.videoPid;
  }

  /** Whole, aligned TS packets. */
  push(packets: Uint8Array): void {
    for (let p = 0; p + TS_PACKET_SIZE <= packets.length; p += TS_PACKET_SIZE)
      this.packet(packets.subarray(p, p + TS_PACKET_SIZE));
  }

  /** End of feed: hand out everything, forget the partial PES. */
  flush(): void {
    this.handOutAll();
    this.videoPid = undefined;
  }

  private handOutAll(): void {
    this.endPes();
    this.waiting.sort((a, b) => comparePts33(a.pts, b.pts));
    for (const picture of this.waiting.splice(0)) this.onPicture(picture);
    this.rival = undefined;
  }

  private packet(packet: Uint8Array): void {
    if (packet[0] !== 0x47) return;
    const pid = ((packet[1] & 0x1f) << 8) | packet[2];
    const start = (packet[1] & 0x40) !== 0;
    const adaptation = (packet[3] >> 4) & 0x3;
    if (adaptation === 0 || adaptation === 2) return;
    const payload = packet.subarray(adaptation === 3 ? 5 + packet[4] : 4);
    if (pid !== this.videoPid) {
      // A video PES (00 00 01, stream id 0xE0-0xEF) starting on a PID not read now.
      if (!start) return;
      const header = pesHeader(payload);
      if (!header || (header.streamId & 0xf0) !== 0xe0) return;
      if (this.videoPid !== undefined && !this.takesOver(pid, header.pts)) return;
      const changed = this.videoPid !== undefined;
      if (changed) this.handOutAll();
      this.videoPid = pid;
      if (changed) this.onStreamChange?.(pid);
    } else if (start) {
      this.rival = undefined;
    }
    if (start) this.endPes();
    if (start || this.pes.length > 0) this.pes.push(payload);
  }

  /** Whether `pid` has now carried video for switchAfterMs of its PTS while the locked PID carried none. */
  private takesOver(pid: number, pts: number | undefined): boolean {
    if (pts === undefined) return false;
    if (!this.rival) {
      this.rival = { pid, firstPts: pts };
      return false;
    }
    if (this.rival.pid !== pid) return false;
    const span = (pts - this.rival.firstPts + PTS_WRAP) % PTS_WRAP;
    return span < PTS_WRAP / 2 && span >= this.switchAfterTicks;
  }

  private endPes(): void {
    if (this.pes.length === 0) return;
    const pes = concat(this.pes);
    this.pes = [];
    const header = pesHeader(pes);
    if (header?.pts === undefined) return; // not a PES, or no PTS: cannot be placed in time
    const nals = seiNals(pes.subarray(header.payloadOffset));
    this.onSei?.(header.pts, nals);
    const pairs = nals.flatMap(field1PairsOfSei);
    this.waiting.push({ pts: header.pts, pairs });
    if (this.waiting.length > this.reorderDepth) {
      // The smallest PTS, compared across the 33-bit wrap (pictures are seconds apart at most).
      let min = 0;
      for (let i = 1; i < this.waiting.length; i++)
        if (comparePts33(this.waiting[i].pts, this.waiting[min].pts) < 0) min = i;
      this.onPicture(this.waiting.splice(min, 1)[0]);
    }
  }
}

/** Orders two 33-bit PTS across the wrap: the one less than half a wrap behind the other is earlier. */
export function comparePts33(a: number, b: number): number {
  const d = (a - b + PTS_WRAP) % PTS_WRAP;
  return d === 0 ? 0 : d > PTS_WRAP / 2 ? -1 : 1;
}

/** SEI NAL units (type 6) in an H.264 Annex B elementary stream, each from its header byte. */
function seiNals(es: Uint8Array): Uint8Array[] {
  const starts: number[] = [];
  for (let i = 0; i + 3 < es.length; i++) {
    if (es[i] === 0 && es[i + 1] === 0 && es[i + 2] === 1) {
      starts.push(i + 3);
      // SEI precedes the picture's first slice: no need to scan the slice data.
      const type = es[i + 3] & 0x1f;
      if (type === 1 || type === 5) break;
      i += 2;
    }
  }
  const nals: Uint8Array[] = [];
  for (const [n, s] of starts.entries()) {
    if ((es[s] & 0x1f) !== 6) continue;
    let end = n + 1 < starts.length ? starts[n + 1] - 3 : es.length;
    while (end > s && es[end - 1] === 0) end--; // a 4-byte start code's zero, trailing zeros
    nals.push(es.subarray(s, end));
  }
  return nals;
}
