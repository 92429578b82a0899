import { concat } from '../../packager/bmff/box-writer.ts';

/**
 * Adds an SEI NAL unit to every access unit of an H.264 Annex B byte stream, in flight. An access
 * unit starts at the first slice of a picture (a VCL NAL, type 1 or 5, with first_mb_in_slice 0:
 * its first slice-header bit is 1); x264 writes several slices per picture with sliced threads,
 * and only the first may be preceded by the SEI. The SEI goes right before that slice, after any
 * SPS/PPS/SEI of the same unit, which is a valid NAL order (ITU-T H.264 §7.4.1.2.3).
 *
 * Pictures are numbered in stream order, which is presentation order for streams without
 * B-frames (the source uses -tune zerolatency).
 */
export class AnnexBSeiInserter {
  private pending = new Uint8Array(0);
  private picture = 0;
  private readonly seiFor: (picture: number) => Uint8Array | readonly Uint8Array[] | undefined;

  /** `seiFor(n)`: the SEI NAL(s) (no start code) for picture n, in order, or undefined for none. */
  constructor(seiFor: (picture: number) => Uint8Array | readonly Uint8Array[] | undefined) {
    this.seiFor = seiFor;
  }

  get pictures(): number {
    return this.picture;
  }

  /** Bytes that can be sent on. A start code cut by the chunk boundary waits for the next chunk. */
  push(chunk: Uint8Array): Uint8Array {
    const data = this.pending.length ? concat([this.pending, chunk]) : chunk;
    const parts: Uint8Array[] = [];
    let from = 0;
    // Need 5 bytes after i: 00 00 01, the NAL header and the first slice-header byte.
    let i = 0;
    for (; i + 5 <= data.length; i++) {
      if (data[i] !== 0 || data[i + 1] !== 0 || data[i + 2] !== 1) continue;
      const type = data[i + 3] & 0x1f;
      if ((type === 1 || type === 5) && (data[i + 4] & 0x80) !== 0) {
        const sei = this.seiFor(this.picture++);
        const nals = sei === undefined ? [] : sei instanceof Uint8Array ? [sei] : sei;
        if (nals.length > 0) {
          // Insert before a 4-byte start code's leading zero, so the previous NAL keeps its bytes.
          const at = i > from && data[i - 1] === 0 ? i - 1 : i;
          parts.push(data.subarray(from, at), ...nals.flatMap((nal) => [START_CODE, nal]));
          from = at;
        }
      }
      i += 2;
    }
    // Keep what was not examined yet (it may begin a start code), with one zero before it so a
    // 4-byte start code stays whole; that zero was examined and cannot begin a start code itself.
    const keep = i - 1 >= from && data[i - 1] === 0 ? i - 1 : Math.max(from, i);
    parts.push(data.subarray(from, keep));
    this.pending = data.slice(keep);
    return concat(parts);
  }

  /** End of stream: the last bytes (no start code can begin in them any more). */
  flush(): Uint8Array {
    const rest = this.pending;
    this.pending = new Uint8Array(0);
    return rest;
  }
}

const START_CODE = Uint8Array.of(0, 0, 0, 1);
