import { concat } from '../packager/bmff/box-writer.ts';
import { fourcc } from '../packager/bmff/box-reader.ts';

/** One complete top-level box: its type and its bytes (header included). */
export interface StreamBox {
  type: string;
  bytes: Uint8Array;
}

/**
 * Splits a byte stream of fragmented MP4 (ffmpeg writing to a pipe) into top-level boxes as
 * they complete, so fragments can be handled frame by frame while ffmpeg is still running.
 *
 * Hot path (every frame of every rendition): a box that arrives inside one chunk is handed out as
 * a view of that chunk, not a copy; a box split over chunks is copied once, when its last byte
 * has arrived (its chunks are kept until then, never joined chunk by chunk, and only its own bytes
 * are copied). Node gives every read of a pipe its own buffer, so the views stay valid.
 */
export class BoxStream {
  /** The start of an unfinished box: the rest of the last chunk and the chunks after it. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** That box's size, once read from its header. */
  private pendingSize: number | undefined;

  /** Complete top-level boxes now available. */
  push(chunk: Uint8Array): StreamBox[] {
    const out: StreamBox[] = [];
    let data = chunk;
    if (this.pendingBytes > 0) {
      const before = this.pendingBytes;
      this.pending.push(chunk);
      this.pendingBytes += chunk.byteLength;
      const need = this.pendingBoxSize();
      if (need === undefined || this.pendingBytes < need) return out;
      // The unfinished box ends in this chunk: copy it out; the rest of the chunk is read in place.
      const used = need - before;
      this.pending[this.pending.length - 1] = chunk.subarray(0, used);
      const bytes = concat(this.pending);
      out.push({ type: fourcc(bytes, 4), bytes });
      this.pending = [];
      this.pendingBytes = 0;
      this.pendingSize = undefined;
      data = chunk.subarray(used);
    }
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let p = 0;
    while (data.length - p >= 8) {
      const size = boxSize(dv, p);
      if (size === undefined || data.length - p < size) break;
      out.push({ type: fourcc(data, p + 4), bytes: data.subarray(p, p + size) });
      p += size;
    }
    if (p < data.length) {
      this.pending = [data.subarray(p)];
      this.pendingBytes = data.length - p;
      this.pendingSize = undefined;
    }
    return out;
  }

  /** Size of the box the pending bytes start, once its header has arrived. */
  private pendingBoxSize(): number | undefined {
    if (this.pendingSize !== undefined || this.pendingBytes < 8) return this.pendingSize;
    // The header's first 16 bytes (at most), gathered from as many chunks as they span.
    const head = new Uint8Array(Math.min(16, this.pendingBytes));
    for (let i = 0, at = 0; at < head.length; i++) {
      const part = this.pending[i].subarray(0, head.length - at);
      head.set(part, at);
      at += part.length;
    }
    this.pendingSize = boxSize(new DataView(head.buffer), 0);
    return this.pendingSize;
  }
}

/** Size of the box at p (32-bit, or 64-bit when the size field is 1); undefined until the 64-bit size is there. */
function boxSize(dv: DataView, p: number): number | undefined {
  let size = dv.getUint32(p);
  if (size === 1) {
    if (dv.byteLength - p < 16) return undefined;
    size = Number(dv.getBigUint64(p + 8));
  }
  if (size < 8) throw new Error(`ffmpeg output is not a box stream (size ${size} at ${p})`);
  return size;
}

/**
 * `first` followed by `second` as one buffer (a moof and its mdat, for readFragments): a view
 * when they lie back to back in the same chunk, as ffmpeg writes them, else a copy.
 */
export function joined(first: Uint8Array, second: Uint8Array): Uint8Array {
  if (first.buffer === second.buffer && first.byteOffset + first.byteLength === second.byteOffset)
    return new Uint8Array(first.buffer, first.byteOffset, first.byteLength + second.byteLength);
  return concat([first, second]);
}
