/**
 * SCTE-35 splice_info_section (ANSI/SCTE 35 §9.6) with a splice_insert (§9.7.3) or a
 * time_signal (§9.7.4) command: writing and reading exactly what this project sends and
 * accepts. The npm `scte35` parser (0.2.4) reads a splice_insert's splice_time from the wrong
 * offset (it indexes the section's buffer with an offset into the command), so every field after
 * it comes out wrong; it is kept as an independent check in the tests where it reads correctly.
 * Pure code: it runs in workerd (the hub encodes operator splices) and in Node (the bridge).
 */

import { PTS_WRAP, wrapPts } from './epoch.ts';

export const SPLICE_INSERT = 0x05;
export const TIME_SIGNAL = 0x06;
const TABLE_ID = 0xfc;
const TWO_POW_32 = 2 ** 32;

/** What one splice_info_section says (the fields the markers use). */
export interface SpliceSection {
  command: 'splice_insert' | 'time_signal';
  /** splice_insert only. */
  spliceEventId?: number;
  /** splice_insert: true is the start of a break (OUT), false its end (IN). */
  outOfNetwork?: boolean;
  /** 33-bit 90 kHz splice time, before pts_adjustment; absent: splice immediately. */
  ptsTime?: number;
  ptsAdjustment: number;
  /** break_duration in 90 kHz ticks (splice_insert with duration_flag). */
  breakDuration?: number;
  autoReturn?: boolean;
}

/** CRC-32/MPEG-2 (polynomial 0x04C11DB7, initial 0xFFFFFFFF, no reflection, no final xor). */
export function crc32Mpeg2(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte << 24;
    for (let i = 0; i < 8; i++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
}

/** A splice_insert for a whole program: OUT with a planned duration, or IN (duration omitted). */
export function encodeSpliceInsert(opts: {
  spliceEventId: number;
  outOfNetwork: boolean;
  /** 90 kHz ticks (wrapped to 33 bits here); omitted: splice_immediate_flag. */
  ptsTime?: number;
  breakDuration?: number;
  autoReturn?: boolean;
}): Uint8Array {
  const cmd: number[] = [];
  pushU32(cmd, opts.spliceEventId);
  cmd.push(0x7f); // splice_event_cancel_indicator 0, reserved
  const immediate = opts.ptsTime === undefined;
  const hasDuration = opts.breakDuration !== undefined;
  // out_of_network, program_splice_flag 1, duration_flag, splice_immediate_flag, event_id_compliance 1, reserved.
  cmd.push((opts.outOfNetwork ? 0x80 : 0) | 0x40 | (hasDuration ? 0x20 : 0) | (immediate ? 0x10 : 0) | 0x0f);
  if (!immediate) push33(cmd, 0xfe, opts.ptsTime!); // time_specified_flag 1, 6 reserved bits
  if (hasDuration) push33(cmd, (opts.autoReturn ?? true) ? 0xfe : 0x7e, opts.breakDuration!);
  cmd.push(0, 0, 0, 0); // unique_program_id, avail_num, avails_expected
  return section(SPLICE_INSERT, cmd);
}

/** A time_signal at `ptsTime` (no descriptors). */
export function encodeTimeSignal(ptsTime: number): Uint8Array {
  const cmd: number[] = [];
  push33(cmd, 0xfe, ptsTime);
  return section(TIME_SIGNAL, cmd);
}

/**
 * Read a splice_info_section; throws a RangeError saying what is wrong (length, CRC, table id,
 * encryption, a command other than splice_insert or time_signal, a cancelled or component splice).
 */
export function parseSpliceSection(bytes: Uint8Array): SpliceSection {
  if (bytes.length < 17) throw new RangeError(`splice_info_section of ${bytes.length} bytes is too short`);
  if (bytes[0] !== TABLE_ID) throw new RangeError(`table_id 0x${bytes[0].toString(16)} is not 0xfc`);
  const sectionLength = ((bytes[1] & 0x0f) << 8) | bytes[2];
  if (sectionLength + 3 !== bytes.length)
    throw new RangeError(`section_length ${sectionLength} does not match ${bytes.length - 3} bytes after it`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (crc32Mpeg2(bytes) !== 0) throw new RangeError('CRC_32 does not match');
  if (bytes[4] & 0x80) throw new RangeError('encrypted splice_info_section is not supported');
  const ptsAdjustment = (bytes[4] & 1) * TWO_POW_32 + view.getUint32(5);
  const commandLength = ((bytes[11] & 0x0f) << 8) | bytes[12];
  const type = bytes[13];
  let p = 14;
  if (commandLength !== 0xfff && p + commandLength > bytes.length - 4)
    throw new RangeError(`splice_command_length ${commandLength} runs past the section`);
  if (type === TIME_SIGNAL) {
    const time = readSpliceTime(bytes, view, p);
    if (time.ptsTime === undefined) throw new RangeError('time_signal without a time');
    return { command: 'time_signal', ptsTime: time.ptsTime, ptsAdjustment };
  }
  if (type !== SPLICE_INSERT) throw new RangeError(`splice_command_type 0x${type.toString(16)} is not supported`);
  const spliceEventId = view.getUint32(p);
  if (bytes[p + 4] & 0x80) throw new RangeError(`splice ${spliceEventId} is a cancellation`);
  const flags = bytes[p + 5];
  p += 6;
  if (!(flags & 0x40)) throw new RangeError(`splice ${spliceEventId} splices components, not the program`);
  const out: SpliceSection = {
    command: 'splice_insert',
    spliceEventId,
    outOfNetwork: (flags & 0x80) !== 0,
    ptsAdjustment,
  };
  if (!(flags & 0x10)) {
    const time = readSpliceTime(bytes, view, p);
    p += time.length;
    if (time.ptsTime !== undefined) out.ptsTime = time.ptsTime;
  }
  if (flags & 0x20) {
    out.autoReturn = (bytes[p] & 0x80) !== 0;
    out.breakDuration = (bytes[p] & 1) * TWO_POW_32 + view.getUint32(p + 1);
  }
  return out;
}

/** The splice's time on the feed's clock: pts_time + pts_adjustment, modulo 2^33. */
export function adjustedPts(s: SpliceSection): number | undefined {
  return s.ptsTime === undefined ? undefined : (s.ptsTime + s.ptsAdjustment) % PTS_WRAP;
}

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function fromBase64(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

function readSpliceTime(bytes: Uint8Array, view: DataView, p: number): { ptsTime?: number; length: number } {
  if (!(bytes[p] & 0x80)) return { length: 1 };
  return { ptsTime: (bytes[p] & 1) * TWO_POW_32 + view.getUint32(p + 1), length: 5 };
}

function section(type: number, command: number[]): Uint8Array {
  // table_id … tier (11 bytes), command length and type (3), command, descriptor_loop_length (2), CRC (4).
  const length = 11 + 3 + command.length + 2 + 4;
  const out = new Uint8Array(length);
  const sectionLength = length - 3;
  // section_syntax_indicator 0, private_indicator 0, sap_type 3 (not specified).
  out.set([TABLE_ID, 0x30 | (sectionLength >> 8), sectionLength & 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff], 0);
  out[11] = 0xf0 | (command.length >> 8); // tier 0xFFF, then splice_command_length
  out[12] = command.length & 0xff;
  out[13] = type;
  out.set(command, 14);
  // descriptor_loop_length 0 (already zero), then the CRC over everything before it.
  const crc = crc32Mpeg2(out.subarray(0, length - 4));
  new DataView(out.buffer).setUint32(length - 4, crc);
  return out;
}

function pushU32(out: number[], v: number): void {
  out.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

/** One flag byte whose low bit is bit 32 of `ticks`, then its low 32 bits. */
function push33(out: number[], highBits: number, ticks: number): void {
  const t = wrapPts(Math.round(ticks));
  out.push((highBits & 0xfe) | (t >= TWO_POW_32 ? 1 : 0));
  pushU32(out, t % TWO_POW_32);
}
