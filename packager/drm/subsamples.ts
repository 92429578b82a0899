/**
 * Which bytes of a NAL-structured video sample are encrypted (ISO/IEC 23001-7 §9.5, "subsample
 * encryption"). Each subsample is a clear run followed by a protected run. We keep clear:
 * - NAL length prefixes and NAL unit headers (players and secure decoders parse them);
 * - non-VCL NAL units entirely (SPS, PPS, SEI, AUD: parameter sets must stay readable);
 * - the start of each slice: SLICE_HEADER_CLEAR bytes past the NAL header, a bound on the slice
 *   header so it stays in the clear as §10 asks, then enough more that the protected run is a
 *   whole number of 16-byte blocks (the CENC recommendation, and what Chromium/Shaka emit).
 */
import { AppError } from '../../contract/errors.ts';
import type { TrackProtection } from './protection.ts';

export interface Subsample {
  clear: number;
  protected: number;
}

/**
 * Bytes after the NAL header kept clear to cover the slice header. x264/x265 slice headers are
 * a few bytes to a few dozen (weighted prediction tables); 32 covers the common encoders without
 * parsing SPS/PPS. An exact slice-header parser would let us shrink this (docs/drm.md).
 */
export const SLICE_HEADER_CLEAR = 32;
/** senc stores BytesOfClearData in 16 bits. */
const MAX_CLEAR = 0xffff;

/**
 * `phase` (cenc with 16-byte IVs): where the sample's first byte sits in the segment's key stream,
 * modulo 16. Each protected run then starts on a key-stream block boundary (a few more bytes of
 * slice data clear at its start, fewer than 16) and is cut to whole blocks at its end (the rest
 * of the NAL, fewer than 16 bytes, is clear, as cbcs leaves a partial block): the sample's
 * protected bytes are then, byte for byte, the key stream of one call over the whole mdat, and
 * its IV is that stream's counter at its first protected byte (encrypt-segment.ts). Without
 * `phase`, a protected run ends at its NAL's end.
 */
export function videoSubsamples(
  data: Uint8Array,
  nal: NonNullable<TrackProtection['nal']>,
  phase?: number,
): Subsample[] {
  const out: Subsample[] = [];
  const headerSize = nal.codec === 'avc' ? 1 : 2;
  let pendingClear = 0;
  let p = 0;
  while (p < data.byteLength) {
    if (p + nal.lengthSize > data.byteLength)
      throw new AppError('MEDIA_MALFORMED', `NAL length at byte ${p} runs past the sample (${data.byteLength} bytes)`);
    let len = 0;
    for (let i = 0; i < nal.lengthSize; i++) len = len * 256 + data[p + i];
    const start = p + nal.lengthSize;
    const end = start + len;
    if (end > data.byteLength)
      throw new AppError(
        'MEDIA_MALFORMED',
        `NAL unit at byte ${p} declares ${len} bytes but the sample has ${data.byteLength - start} left`,
      );
    const lead = headerSize + SLICE_HEADER_CLEAR;
    let from = end;
    let protectedBytes = 0;
    if (isVcl(data[start], nal.codec) && len > lead) {
      from = phase === undefined ? end - Math.floor((len - lead) / 16) * 16 : alignUp(start + lead, phase);
      protectedBytes = phase === undefined ? end - from : Math.max(0, Math.floor((end - from) / 16) * 16);
    }
    if (protectedBytes > 0) {
      pushClear(out, pendingClear + (from - p), protectedBytes);
      pendingClear = end - from - protectedBytes;
    } else pendingClear += end - p;
    p = end;
  }
  if (pendingClear > 0) pushClear(out, pendingClear, 0);
  return out;
}

/** The first offset at or after `at` whose key-stream position (phase + offset) is a block boundary. */
function alignUp(at: number, phase: number): number {
  return at + ((16 - ((phase + at) % 16)) % 16);
}

/** A clear run longer than 16 bits becomes extra subsamples with nothing protected. */
function pushClear(out: Subsample[], clear: number, protectedBytes: number): void {
  while (clear > MAX_CLEAR) {
    out.push({ clear: MAX_CLEAR, protected: 0 });
    clear -= MAX_CLEAR;
  }
  out.push({ clear, protected: protectedBytes });
}

function isVcl(header: number, codec: 'avc' | 'hevc'): boolean {
  if (codec === 'avc') {
    const type = header & 0x1f;
    return type >= 1 && type <= 5;
  }
  return ((header >> 1) & 0x3f) < 32;
}
