import { crc32Mpeg2 } from '../../contract/scte35-section.ts';
import { TS_PACKET_SIZE } from '../ts-timestamps.ts';

/**
 * The few MPEG-TS program tables (ISO/IEC 13818-1 §2.4.4) the SCTE-35 inserter and reader need:
 * which PIDs carry program map tables (PAT), which elementary streams a PMT lists, and a PMT that
 * also lists an SCTE-35 stream. Sections are read from one packet (ffmpeg's tables fit in one).
 */

/** stream_type of SCTE-35 splice_info_sections (SCTE 35 §8.1). */
export const SCTE35_STREAM_TYPE = 0x86;
/** registration_descriptor format_identifier "CUEI" that SCTE 35 §8.1 puts in the PMT. */
const CUEI = [0x43, 0x55, 0x45, 0x49];

export interface TsPacketView {
  pid: number;
  start: boolean;
  /** Payload after the adaptation field (empty when there is none). */
  payload: Uint8Array;
}

export function tsPacket(packet: Uint8Array): TsPacketView | undefined {
  if (packet.length < TS_PACKET_SIZE || packet[0] !== 0x47) return undefined;
  const adaptation = (packet[3] >> 4) & 0x3;
  const offset = adaptation === 3 ? 5 + packet[4] : 4;
  return {
    pid: ((packet[1] & 0x1f) << 8) | packet[2],
    start: (packet[1] & 0x40) !== 0,
    payload:
      adaptation === 1 || adaptation === 3 ? packet.subarray(Math.min(offset, TS_PACKET_SIZE)) : new Uint8Array(0),
  };
}

/** The section a payload-unit-start packet begins (after its pointer_field), whole, or undefined. */
export function sectionOf(payload: Uint8Array): Uint8Array | undefined {
  if (payload.length < 1) return undefined;
  const at = 1 + payload[0];
  if (at + 3 > payload.length) return undefined;
  const length = 3 + (((payload[at + 1] & 0x0f) << 8) | payload[at + 2]);
  return at + length <= payload.length ? payload.subarray(at, at + length) : undefined;
}

/** The program_map_PIDs of a PAT section. */
export function programMapPids(pat: Uint8Array): number[] {
  const pids: number[] = [];
  // 8-byte header, then 4 bytes per program, then the CRC.
  for (let p = 8; p + 4 <= pat.length - 4; p += 4) {
    const program = (pat[p] << 8) | pat[p + 1];
    if (program !== 0) pids.push(((pat[p + 2] & 0x1f) << 8) | pat[p + 3]);
  }
  return pids;
}

/** The elementary streams a PMT section lists. */
export function pmtStreams(pmt: Uint8Array): { streamType: number; pid: number }[] {
  const programInfoLength = ((pmt[10] & 0x0f) << 8) | pmt[11];
  const streams: { streamType: number; pid: number }[] = [];
  for (let p = 12 + programInfoLength; p + 5 <= pmt.length - 4; ) {
    streams.push({ streamType: pmt[p], pid: ((pmt[p + 1] & 0x1f) << 8) | pmt[p + 2] });
    p += 5 + (((pmt[p + 3] & 0x0f) << 8) | pmt[p + 4]);
  }
  return streams;
}

/**
 * The PMT section with a "CUEI" registration descriptor in its program info and an SCTE-35
 * stream on `pid` appended, its section_length and CRC_32 recomputed. Unchanged when it already
 * lists that stream.
 */
export function withScte35Stream(pmt: Uint8Array, pid: number): Uint8Array {
  if (pmtStreams(pmt).some((s) => s.pid === pid)) return pmt;
  const programInfoLength = ((pmt[10] & 0x0f) << 8) | pmt[11];
  const descriptor = [0x05, 4, ...CUEI];
  const es = [SCTE35_STREAM_TYPE, 0xe0 | (pid >> 8), pid & 0xff, 0xf0, 0];
  const body = [
    ...pmt.subarray(0, 12),
    ...pmt.subarray(12, 12 + programInfoLength),
    ...descriptor,
    ...pmt.subarray(12 + programInfoLength, pmt.length - 4),
    ...es,
  ];
  const newInfoLength = programInfoLength + descriptor.length;
  body[10] = (pmt[10] & 0xf0) | (newInfoLength >> 8);
  body[11] = newInfoLength & 0xff;
  const sectionLength = body.length + 4 - 3;
  body[1] = (pmt[1] & 0xf0) | (sectionLength >> 8);
  body[2] = sectionLength & 0xff;
  const out = new Uint8Array(body.length + 4);
  out.set(body);
  new DataView(out.buffer).setUint32(body.length, crc32Mpeg2(out.subarray(0, body.length)));
  return out;
}

/**
 * One TS packet (payload only, payload_unit_start set) carrying a whole section after a zero
 * pointer_field, stuffed with 0xFF. Throws when the section does not fit in one packet.
 */
export function sectionPacket(pid: number, continuity: number, section: Uint8Array): Uint8Array {
  if (section.length > TS_PACKET_SIZE - 5)
    throw new RangeError(`a ${section.length}-byte section needs more than one packet`);
  const packet = new Uint8Array(TS_PACKET_SIZE).fill(0xff);
  packet.set([0x47, 0x40 | (pid >> 8), pid & 0xff, 0x10 | (continuity & 0x0f), 0x00], 0);
  packet.set(section, 5);
  return packet;
}
