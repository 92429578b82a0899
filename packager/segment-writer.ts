import { box, str, u32 } from './bmff/box-writer.ts';
import type { Sample } from './sample.ts';

export interface SegmentInput {
  /** mfhd sequence number: we use the epoch number K (mod 2^32) so it is identical across pipelines. */
  sequenceNumber: number;
  trackId: number;
  /** tfdt, written as a 64-bit version-1 box. */
  baseMediaDecodeTime: number;
  samples: Sample[];
}

const STYP = box('styp', str('cmfs'), u32(0), str('cmfs'), str('msdh'));

/** trun tr_flags: data_offset, and duration, size, flags and composition offset per sample. */
const TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800;

/**
 * Write one CMAF segment in the project's fixed layout:
 * styp; moof(mfhd, traf(tfhd default-base-is-moof, tfdt v1, trun)); mdat.
 * The trun carries duration, size, flags and composition offset for every sample so that no
 * player has to combine defaults from three places.
 *
 * The encoder bridge writes every segment and every part with this (bench/bridge.ts), so it sizes
 * the whole segment first and writes it into one buffer: the sample data are copied once, not
 * once per enclosing box as nested box() calls would.
 */
export function writeSegment(input: SegmentInput): Uint8Array {
  const { samples } = input;
  let signedCto = false;
  let mediaBytes = 0;
  for (const s of samples) {
    if (s.compositionOffset < 0) signedCto = true;
    mediaBytes += s.data.byteLength;
  }
  const mfhdSize = 16;
  const tfhdSize = 16;
  const tfdtSize = 20;
  const trunSize = 20 + 16 * samples.length;
  const trafSize = 8 + tfhdSize + tfdtSize + trunSize;
  const moofSize = 8 + mfhdSize + trafSize;
  const out = new Uint8Array(STYP.byteLength + moofSize + 8 + mediaBytes);
  const dv = new DataView(out.buffer);
  out.set(STYP);
  let p = STYP.byteLength;
  const put32 = (value: number) => {
    dv.setUint32(p, value);
    p += 4;
  };
  const header = (size: number, type: string) => {
    put32(size);
    for (let i = 0; i < 4; i++) out[p + i] = type.charCodeAt(i);
    p += 4;
  };
  header(moofSize, 'moof');
  header(mfhdSize, 'mfhd');
  put32(0);
  put32(input.sequenceNumber % 2 ** 32); // the segment number K, mod 2^32 (mfhd is 32 bits)
  header(trafSize, 'traf');
  header(tfhdSize, 'tfhd');
  put32(0x020000); // default-base-is-moof
  put32(input.trackId);
  header(tfdtSize, 'tfdt');
  put32(1 << 24); // version 1: 64-bit baseMediaDecodeTime
  dv.setBigUint64(p, BigInt(input.baseMediaDecodeTime));
  p += 8;
  header(trunSize, 'trun');
  put32(((signedCto ? 1 : 0) << 24) | TRUN_FLAGS);
  put32(samples.length);
  dv.setInt32(p, moofSize + 8); // data_offset: from the moof to the first sample, past the mdat header
  p += 4;
  for (const s of samples) {
    put32(s.duration);
    put32(s.data.byteLength);
    put32(s.flags);
    if (signedCto) dv.setInt32(p, s.compositionOffset);
    else dv.setUint32(p, s.compositionOffset);
    p += 4;
  }
  header(8 + mediaBytes, 'mdat');
  for (const s of samples) {
    out.set(s.data, p);
    p += s.data.byteLength;
  }
  return out;
}
