import { TS_PACKET_SIZE } from '../ts-timestamps.ts';
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
 * reordering delay) before they are handed out.
 */
export class TsCcReader {
  private videoPid: number | undefined;
  private pes: Uint8Array[] = [];
  private readonly waiting: PictureCc[] = [];
  private readonly reorderDepth: number;
  private readonly onPicture: (picture: PictureCc) => void;

  constructor(opts: { onPicture: (picture: PictureCc) => void; reorderDepth?: number }) {
    this.onPicture = opts.onPicture;
    this.reorderDepth = opts.reorderDepth ?? 4;
  }

  /** Whole, aligned TS packets. */
  push(packets: Uint8Array): void {
    for (let p = 0; p + TS_PACKET_SIZE <= packets.length; p += TS_PACKET_SIZE) this.packet(packets.subarray(p, p + TS_PACKET_SIZE));
  }

  /** End of feed: hand out everything, forget the partial PES. */
  flush(): void {
    this.endPes();
    this.waiting.sort((a, b) => a.pts - b.pts);
    for (const picture of this.waiting.splice(0)) this.onPicture(picture);
    this.videoPid = undefined;
  }

  private packet(packet: Uint8Array): void {
    if (packet[0] !== 0x47) return;
    const pid = ((packet[1] & 0x1f) << 8) | packet[2];
    const start = (packet[1] & 0x40) !== 0;
    const adaptation = (packet[3] >> 4) & 0x3;
    if (adaptation === 0 || adaptation === 2) return;
    const payload = packet.subarray(adaptation === 3 ? 5 + packet[4] : 4);
    if (this.videoPid === undefined) {
      // 00 00 01 and a video stream id (0xE0-0xEF) at a payload unit start.
      if (!start || payload[0] !== 0 || payload[1] !== 0 || payload[2] !== 1 || (payload[3] & 0xf0) !== 0xe0) return;
      this.videoPid = pid;
    }
    if (pid !== this.videoPid) return;
    if (start) this.endPes();
    if (start || this.pes.length > 0) this.pes.push(payload);
  }

  private endPes(): void {
    if (this.pes.length === 0) return;
    const pes = concat(this.pes);
    this.pes = [];
    if (pes.length < 9 || (pes[7] & 0x80) === 0) return; // no PTS: cannot be placed in time
    const b = pes.subarray(9, 14);
    const pts = ((b[0] >> 1) & 0x07) * 2 ** 30 + ((b[1] << 7) | (b[2] >> 1)) * 2 ** 15 + ((b[3] << 7) | (b[4] >> 1));
    const pairs = seiNals(pes.subarray(9 + pes[8])).flatMap(field1PairsOfSei);
    this.waiting.push({ pts, pairs });
    if (this.waiting.length > this.reorderDepth) {
      // The smallest PTS, compared across the 33-bit wrap (pictures are seconds apart at most).
      let min = 0;
      for (let i = 1; i < this.waiting.length; i++) if (wrappedLess(this.waiting[i].pts, this.waiting[min].pts)) min = i;
      this.onPicture(this.waiting.splice(min, 1)[0]);
    }
  }
}

const wrappedLess = (a: number, b: number) => ((a - b + 2 ** 33) % 2 ** 33) > 2 ** 32;

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

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
