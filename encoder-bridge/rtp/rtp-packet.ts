/**
 * RTP (RFC 3550) packets carrying MPEG-TS (RFC 2250): the contribution format of SMPTE ST 2022-2
 * and, sent twice over separate networks, of ST 2022-7. Parsing validates everything a receiver
 * relies on, because datagrams from the network are untrusted input.
 *
 *    0                   1                   2                   3
 *   |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *   |                           timestamp                           |
 *   |                             SSRC                              |
 *   |                 CSRC list (CC × 32 bits) …                    |
 *   | extension: profile (16) | length in words (16) | data …       |
 */
import { TS_PACKET_SIZE } from '../ts-timestamps.ts';

export const RTP_VERSION = 2;
/** Static payload type for MPEG-2 transport streams (RFC 3551). */
export const MP2T_PAYLOAD_TYPE = 33;
/** RFC 2250 / ST 2022-2 practice: 7 × 188 = 1316 bytes keeps a datagram under a 1500-byte MTU. */
export const TS_PACKETS_PER_RTP = 7;
/** RFC 2250: the timestamp is a 90 kHz clock. */
export const RTP_CLOCK_HZ = 90_000;
const FIXED_HEADER = 12;

export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  /** 16-bit, wraps at 65535 → 0. */
  sequenceNumber: number;
  /** 32-bit, 90 kHz for MPEG-TS. */
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  extension?: { profile: number; data: Uint8Array };
  /** Without padding. A view into the datagram: copy it if it must outlive the buffer. */
  payload: Uint8Array;
}

export type RtpParseResult = { ok: true; packet: RtpPacket } | { ok: false; reason: string };

export function parseRtpPacket(datagram: Uint8Array): RtpParseResult {
  if (datagram.length < FIXED_HEADER)
    return { ok: false, reason: `too short for an RTP header (${datagram.length} bytes)` };
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  const b0 = datagram[0];
  const version = b0 >> 6;
  if (version !== RTP_VERSION) return { ok: false, reason: `RTP version ${version}, expected 2` };
  const padding = (b0 & 0x20) !== 0;
  const hasExtension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  let offset = FIXED_HEADER + 4 * csrcCount;
  if (datagram.length < offset) return { ok: false, reason: `CSRC list (${csrcCount}) runs past the datagram` };
  const csrcs: number[] = [];
  for (let i = 0; i < csrcCount; i++) csrcs.push(view.getUint32(FIXED_HEADER + 4 * i));
  let extension: RtpPacket['extension'];
  if (hasExtension) {
    if (datagram.length < offset + 4) return { ok: false, reason: 'header extension runs past the datagram' };
    const profile = view.getUint16(offset);
    const words = view.getUint16(offset + 2);
    const end = offset + 4 + 4 * words;
    if (datagram.length < end) return { ok: false, reason: `header extension (${words} words) runs past the datagram` };
    extension = { profile, data: datagram.subarray(offset + 4, end) };
    offset = end;
  }
  let end = datagram.length;
  if (padding) {
    // The last byte counts the padding bytes, itself included (RFC 3550 §5.1).
    const pad = datagram[datagram.length - 1];
    if (pad === 0 || end - pad < offset) return { ok: false, reason: `invalid padding length ${pad}` };
    end -= pad;
  }
  return {
    ok: true,
    packet: {
      marker: (datagram[1] & 0x80) !== 0,
      payloadType: datagram[1] & 0x7f,
      sequenceNumber: view.getUint16(2),
      timestamp: view.getUint32(4),
      ssrc: view.getUint32(8),
      csrcs,
      extension,
      payload: datagram.subarray(offset, end),
    },
  };
}

/** Why this payload is not whole 188-byte TS packets, or undefined when it is. */
export function mpegTsPayloadProblem(payload: Uint8Array): string | undefined {
  if (payload.length === 0 || payload.length % TS_PACKET_SIZE !== 0)
    return `payload of ${payload.length} bytes is not whole TS packets`;
  for (let p = 0; p < payload.length; p += TS_PACKET_SIZE)
    if (payload[p] !== 0x47) return `no TS sync byte at payload offset ${p}`;
  return undefined;
}

export interface RtpPacketFields {
  payloadType?: number;
  marker?: boolean;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs?: number[];
  extension?: { profile: number; data: Uint8Array };
  /** Pad the packet to a multiple of this many bytes (for tests; senders rarely need it). */
  padTo?: number;
  payload: Uint8Array;
}

export function buildRtpPacket(fields: RtpPacketFields): Uint8Array {
  const csrcs = fields.csrcs ?? [];
  if (csrcs.length > 15) throw new RangeError('at most 15 CSRCs');
  const ext = fields.extension;
  if (ext && ext.data.length % 4 !== 0) throw new RangeError('header extension data must be whole 32-bit words');
  const headerLength = FIXED_HEADER + 4 * csrcs.length + (ext ? 4 + ext.data.length : 0);
  const unpadded = headerLength + fields.payload.length;
  const pad = fields.padTo ? (fields.padTo - (unpadded % fields.padTo)) % fields.padTo : 0;
  if (pad > 255) throw new RangeError('padding is at most 255 bytes');
  const out = new Uint8Array(unpadded + pad);
  const view = new DataView(out.buffer);
  out[0] = (RTP_VERSION << 6) | (pad > 0 ? 0x20 : 0) | (ext ? 0x10 : 0) | csrcs.length;
  out[1] = (fields.marker ? 0x80 : 0) | ((fields.payloadType ?? MP2T_PAYLOAD_TYPE) & 0x7f);
  view.setUint16(2, fields.sequenceNumber & 0xffff);
  view.setUint32(4, fields.timestamp >>> 0);
  view.setUint32(8, fields.ssrc >>> 0);
  csrcs.forEach((c, i) => view.setUint32(FIXED_HEADER + 4 * i, c >>> 0));
  let offset = FIXED_HEADER + 4 * csrcs.length;
  if (ext) {
    view.setUint16(offset, ext.profile);
    view.setUint16(offset + 2, ext.data.length / 4);
    out.set(ext.data, offset + 4);
    offset += 4 + ext.data.length;
  }
  out.set(fields.payload, offset);
  if (pad > 0) out[out.length - 1] = pad;
  return out;
}
