import type { CcPair } from './pop-on-encoder.ts';

/**
 * ATSC A/53 Part 4 closed captions in H.264: an SEI message of type 4
 * (user_data_registered_itu_t_t35) holding `cc_data`. The same payload is what ffmpeg's h264
 * decoder and every broadcast decoder read (SCTE 128 / ATSC A/72 carriage).
 */
const SEI_NAL = 0x06;
const T35_PAYLOAD_TYPE = 4;
const T35_PREFIX = [0xb5, 0x00, 0x31, 0x47, 0x41, 0x39, 0x34, 0x03]; // USA, ATSC, 'GA94', cc_data
/** cc_type 0: field-1 608 (CC1/CC2); the triplet's first byte is 5 marker bits, cc_valid, cc_type. */
const FIELD1_VALID = 0xfc;

/** One SEI NAL unit (without start code) carrying these field-1 608 pairs, emulation-prevented. */
export function a53CcSeiNal(pairs: readonly CcPair[]): Uint8Array {
  if (pairs.length < 1 || pairs.length > 31) throw new RangeError('cc_count is 1-31');
  // process_cc_data_flag=1, additional_data_flag=0, cc_count; then em_data (0xFF).
  const payload = [...T35_PREFIX, 0xc0 | pairs.length, 0xff, ...pairs.flatMap(([a, b]) => [FIELD1_VALID, a, b]), 0xff];
  // payloadSize < 255 always (at most 8 + 2 + 93 + 1 bytes), so one size byte; then the RBSP stop bit.
  const rbsp = [T35_PAYLOAD_TYPE, payload.length, ...payload, 0x80];
  return Uint8Array.from([SEI_NAL, ...addEmulationPrevention(rbsp)]);
}

/** Inserts 0x03 after two zero bytes when the next byte is 0-3, so no start code can appear inside the NAL. */
export function addEmulationPrevention(rbsp: readonly number[]): number[] {
  const out: number[] = [];
  let zeros = 0;
  for (const b of rbsp) {
    if (zeros >= 2 && b <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out;
}

export function removeEmulationPrevention(nal: Uint8Array): Uint8Array {
  const out: number[] = [];
  let zeros = 0;
  for (const b of nal) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Uint8Array.from(out);
}

/**
 * The field-1 608 pairs (cc_type 0, cc_valid) of every A/53 cc_data message in one H.264 SEI NAL
 * (header byte included). Other SEI messages, other T.35 providers, field 2 and 708 are skipped.
 */
export function field1PairsOfSei(nal: Uint8Array): CcPair[] {
  return seiMessages(nal).flatMap((m) => (m.type === T35_PAYLOAD_TYPE ? field1PairsOfT35(m.payload) : []));
}

/**
 * The sei_message()s of one H.264 SEI NAL (header byte included), emulation prevention removed:
 * each message's payload type and bytes. A truncated message ends the list (the complete ones before it are kept).
 */
export function seiMessages(nal: Uint8Array): { type: number; payload: Uint8Array }[] {
  const rbsp = removeEmulationPrevention(nal.subarray(1));
  const messages: { type: number; payload: Uint8Array }[] = [];
  let p = 0;
  // sei_message()*: type and size are each a run of 0xFF bytes plus a last byte.
  while (p < rbsp.length && !(rbsp[p] === 0x80 && p === rbsp.length - 1)) {
    let type = 0;
    while (rbsp[p] === 0xff) type += rbsp[p++];
    type += rbsp[p++];
    let size = 0;
    while (rbsp[p] === 0xff) size += rbsp[p++];
    size += rbsp[p++];
    if (p + size > rbsp.length) break; // truncated: keep what was complete
    messages.push({ type, payload: rbsp.subarray(p, p + size) });
    p += size;
  }
  return messages;
}

function field1PairsOfT35(payload: Uint8Array): CcPair[] {
  if (payload.length < 10 || T35_PREFIX.some((b, i) => payload[i] !== b)) return [];
  const flags = payload[8];
  if ((flags & 0x40) === 0) return []; // process_cc_data_flag off: the data is to be ignored
  const count = flags & 0x1f;
  const pairs: CcPair[] = [];
  for (let i = 0, q = 10; i < count && q + 3 <= payload.length; i++, q += 3) {
    const head = payload[q];
    if ((head & 0x04) !== 0 && (head & 0x03) === 0) pairs.push([payload[q + 1], payload[q + 2]]);
  }
  return pairs;
}
