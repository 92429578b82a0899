import { PTS_WRAP, wrapPts } from '../contract/epoch.ts';
import { crc32Mpeg2 } from '../contract/scte35-section.ts';
import { TS_PACKET_SIZE, timestamp33 } from './ts-timestamps.ts';

/**
 * Adds `offsetTicks` (mod 2^33) to every PES PTS and DTS and every PCR base in a run of whole
 * MPEG-TS packets, in a copy (the packets themselves when the offset is 0): a feed whose PTS is not UTC becomes, byte for byte in its
 * timestamps, the feed a PTS-carrier encoder would have sent (sei-utc-feed.ts). Everything after
 * it (timing plan, -itsoffset, K, tfdt, captions) then reads UTC from the PTS as usual. The PCR
 * moves with the PTS so that the demuxer's clock and the stamps keep their distance. SCTE-35
 * splice_info_sections move through their pts_adjustment (the field meant for this, SCTE 35 §9.6:
 * added to every splice time in the section), CRC recomputed; OPCR is not touched.
 */
export function restampTs(packets: Uint8Array, offsetTicks: number): Uint8Array {
  const offset = wrapPts(offsetTicks);
  if (offset === 0) return packets;
  const out = packets.slice();
  for (let p = 0; p + TS_PACKET_SIZE <= out.length; p += TS_PACKET_SIZE) {
    if (out[p] !== 0x47) continue;
    const adaptation = (out[p + 3] >> 4) & 0x3;
    let payload = p + 4;
    if (adaptation === 2 || adaptation === 3) {
      const length = out[p + 4];
      // PCR_flag, and room for the 6-byte PCR in the adaptation field.
      if (length >= 7 && (out[p + 5] & 0x10) !== 0) shiftPcr(out, p + 6, offset);
      payload = p + 5 + length;
    }
    if (adaptation === 2 || (out[p + 1] & 0x40) === 0) continue; // no payload, or no PES starts here
    shiftPesHeader(out, payload, p + TS_PACKET_SIZE, offset);
    shiftSpliceSection(out, payload, p + TS_PACKET_SIZE, offset);
  }
  return out;
}

/** Stream ids without the optional PES header (H.222.0 Table 2-22): nothing to shift. */
const NO_OPTIONAL_HEADER = new Set([0xbc, 0xbe, 0xbf, 0xf0, 0xf1, 0xf2, 0xf8, 0xff]);

function shiftPesHeader(b: Uint8Array, at: number, end: number, offset: number): void {
  if (at + 14 > end || b[at] !== 0 || b[at + 1] !== 0 || b[at + 2] !== 1) return;
  if (NO_OPTIONAL_HEADER.has(b[at + 3]) || (b[at + 6] & 0xc0) !== 0x80) return;
  const flags = b[at + 7] >> 6;
  if (flags >= 2) writeTimestamp(b, at + 9, (readTimestamp(b, at + 9) + offset) % PTS_WRAP);
  if (flags === 3 && at + 19 <= end) writeTimestamp(b, at + 14, (readTimestamp(b, at + 14) + offset) % PTS_WRAP);
}

/**
 * An SCTE-35 splice_info_section (table_id 0xFC) starting in this packet and whole in it (they are
 * a few dozen bytes): pts_adjustment += offset. Only a section whose CRC checks is changed.
 */
function shiftSpliceSection(b: Uint8Array, payload: number, end: number, offset: number): void {
  if (payload >= end) return;
  const at = payload + 1 + b[payload]; // pointer_field
  if (at + 17 > end || b[at] !== 0xfc) return;
  const sectionEnd = at + 3 + (((b[at + 1] & 0x0f) << 8) | b[at + 2]);
  if (sectionEnd > end || crc32Mpeg2(b.subarray(at, sectionEnd)) !== 0) return;
  const adjustment = (b[at + 4] & 1) * 2 ** 32 + new DataView(b.buffer, b.byteOffset).getUint32(at + 5);
  const v = (adjustment + offset) % PTS_WRAP;
  b[at + 4] = (b[at + 4] & 0xfe) | Math.floor(v / 2 ** 32);
  new DataView(b.buffer, b.byteOffset).setUint32(at + 5, v % 2 ** 32);
  new DataView(b.buffer, b.byteOffset).setUint32(sectionEnd - 4, crc32Mpeg2(b.subarray(at, sectionEnd - 4)));
}

const readTimestamp = (b: Uint8Array, at: number) => timestamp33(b.subarray(at, at + 5));

function writeTimestamp(b: Uint8Array, at: number, v: number): void {
  const low = v % 2 ** 30;
  // Keep the '0010'/'0011'/'0001' prefix; marker bits 1.
  b[at] = (b[at] & 0xf0) | ((Math.floor(v / 2 ** 30) & 0x07) << 1) | 1;
  b[at + 1] = (low >> 22) & 0xff;
  b[at + 2] = (((low >> 15) & 0x7f) << 1) | 1;
  b[at + 3] = (low >> 7) & 0xff;
  b[at + 4] = ((low & 0x7f) << 1) | 1;
}

/** program_clock_reference_base (33 bits) of the 6-byte PCR at `at`; its extension is kept. */
function shiftPcr(b: Uint8Array, at: number, offset: number): void {
  const base = b[at] * 2 ** 25 + b[at + 1] * 2 ** 17 + b[at + 2] * 2 ** 9 + b[at + 3] * 2 + (b[at + 4] >> 7);
  const v = (base + offset) % PTS_WRAP;
  b[at] = Math.floor(v / 2 ** 25) & 0xff;
  b[at + 1] = Math.floor(v / 2 ** 17) & 0xff;
  b[at + 2] = Math.floor(v / 2 ** 9) & 0xff;
  b[at + 3] = Math.floor(v / 2) & 0xff;
  b[at + 4] = ((v & 1) << 7) | (b[at + 4] & 0x7f);
}
