/**
 * Just enough MPEG-TS parsing to read the presentation timestamps the contribution encoder
 * stamped from UTC. The bridge needs one PTS before it starts ffmpeg (to compute the epoch offset)
 * and keeps sniffing to report how far the feed's clock is behind ours.
 */
export const TS_PACKET_SIZE = 188;
const SYNC_BYTE = 0x47;

/** PTS (33-bit, 90 kHz) of the first PES header in this 188-byte packet, if it starts one. */
export function ptsOfPacket(packet: Uint8Array): number | undefined {
  return pesTimestamp(packet)?.pts;
}

/** PTS and stream id (0xC0–0xDF audio, 0xE0–0xEF video) of a PES header starting in this packet. */
export function pesTimestamp(packet: Uint8Array): { pts: number; dts?: number; streamId: number } | undefined {
  if (packet.length < TS_PACKET_SIZE || packet[0] !== SYNC_BYTE) return undefined;
  const payloadUnitStart = (packet[1] & 0x40) !== 0;
  if (!payloadUnitStart) return undefined;
  const adaptation = (packet[3] >> 4) & 0x3;
  let p = 4;
  if (adaptation === 2) return undefined; // adaptation field only, no payload
  if (adaptation === 3) p += 1 + packet[4];
  if (p + 14 > TS_PACKET_SIZE) return undefined;
  const header = pesHeader(packet.subarray(p, TS_PACKET_SIZE));
  // A stream id for audio (0xC0–0xDF) or video (0xE0–0xEF), with a PTS.
  if (!header || header.streamId < 0xc0 || header.streamId > 0xef || header.pts === undefined) return undefined;
  return { pts: header.pts, ...(header.dts === undefined ? {} : { dts: header.dts }), streamId: header.streamId };
}

/**
 * The header of a PES packet at the start of `pes`: its stream id, its PTS (33-bit, 90 kHz) when
 * it has one, and where its payload starts. Undefined without the 00 00 01 start code.
 */
export function pesHeader(
  pes: Uint8Array,
): { streamId: number; pts: number | undefined; dts?: number; payloadOffset: number } | undefined {
  if (pes.length < 9 || pes[0] !== 0 || pes[1] !== 0 || pes[2] !== 1) return undefined;
  const streamId = pes[3];
  const payloadOffset = 9 + pes[8];
  const ptsDtsFlags = pes[7] >> 6;
  if (ptsDtsFlags < 2 || pes.length < 14) return { streamId, pts: undefined, payloadOffset };
  const pts = timestamp33(pes.subarray(9, 14));
  // PTS_DTS_flags 3: a DTS follows (the stream reorders frames, B-frames).
  if (ptsDtsFlags === 3 && pes.length >= 19)
    return { streamId, pts, dts: timestamp33(pes.subarray(14, 19)), payloadOffset };
  return { streamId, pts, payloadOffset };
}

/** A 33-bit PES timestamp spread over 5 bytes with marker bits; multiply instead of shifting past 32 bits. */
export function timestamp33(b: Uint8Array): number {
  return ((b[0] >> 1) & 0x07) * 2 ** 30 + ((b[1] << 7) | (b[2] >> 1)) * 2 ** 15 + ((b[3] << 7) | (b[4] >> 1));
}

/** Video PTS values found in a run of whole packets (decode order). */
export function videoPtsValues(packets: Uint8Array): number[] {
  const out: number[] = [];
  for (let p = 0; p + TS_PACKET_SIZE <= packets.length; p += TS_PACKET_SIZE) {
    const ts = pesTimestamp(packets.subarray(p, p + TS_PACKET_SIZE));
    if (ts && ts.streamId >= 0xe0) out.push(ts.pts);
  }
  return out;
}

/**
 * Video PTS, DTS where the PES header carries one, and whether the packet is marked as a random
 * access point (adaptation field random_access_indicator: a keyframe, as ffmpeg's muxer and
 * broadcast encoders mark them), found in a run of whole packets (decode order).
 */
export function videoFrameTimes(packets: Uint8Array): { pts: number; dts?: number; key?: boolean }[] {
  const out: { pts: number; dts?: number; key?: boolean }[] = [];
  for (let p = 0; p + TS_PACKET_SIZE <= packets.length; p += TS_PACKET_SIZE) {
    const packet = packets.subarray(p, p + TS_PACKET_SIZE);
    const ts = pesTimestamp(packet);
    if (!ts || ts.streamId < 0xe0) continue;
    const adaptation = (packet[3] >> 4) & 0x3;
    const key = adaptation === 3 && packet[4] > 0 && (packet[5] & 0x40) !== 0;
    out.push({ pts: ts.pts, ...(ts.dts === undefined ? {} : { dts: ts.dts }), ...(key ? { key } : {}) });
  }
  return out;
}

/**
 * The byte offset just after the first PMT in a run of whole packets (PAT first, then the PMT it
 * names), or -1 before one has passed: a demuxer joining the feed knows no stream until then, so a
 * keyframe before it cannot be decoded.
 */
export function afterProgramTables(packets: Uint8Array): number {
  const pmtPids = new Set<number>();
  for (let p = 0; p + TS_PACKET_SIZE <= packets.length; p += TS_PACKET_SIZE) {
    const pid = ((packets[p + 1] & 0x1f) << 8) | packets[p + 2];
    const start = (packets[p + 1] & 0x40) !== 0;
    if (!start || (pid !== 0 && !pmtPids.has(pid))) continue;
    if (pmtPids.has(pid)) return p + TS_PACKET_SIZE;
    const adaptation = (packets[p + 3] >> 4) & 0x3;
    let q = p + 4 + (adaptation === 3 ? 1 + packets[p + 4] : 0);
    q += 1 + packets[q]; // pointer field
    if (packets[q] !== 0x00) continue; // not a program_association_section
    const sectionEnd = Math.min(q + 3 + (((packets[q + 1] & 0x0f) << 8) | packets[q + 2]) - 4, p + TS_PACKET_SIZE);
    for (let e = q + 8; e + 4 <= sectionEnd; e += 4) {
      const program = (packets[e] << 8) | packets[e + 1];
      if (program !== 0) pmtPids.add(((packets[e + 2] & 0x1f) << 8) | packets[e + 3]);
    }
  }
  return -1;
}

/**
 * The feed's video frame grid from a dozen or so consecutive frame PTS: one frame's time and the
 * average frame duration (1501.5 ticks at 59.94 fps, where single PTS steps alternate 1501/1502).
 * Sorting makes it indifferent to B-frame reordering.
 */
export function videoFrameGrid(pts: number[]): { pts: number; frameTicks: number } | undefined {
  if (pts.length < 2) return undefined;
  const sorted = [...pts].sort((a, b) => a - b);
  const span = sorted[sorted.length - 1] - sorted[0];
  if (span <= 0 || span > 90_000 * 10) return undefined; // a wrap or a gap: try again later
  return { pts: sorted[0], frameTicks: span / (sorted.length - 1) };
}

/**
 * Re-chunks an arbitrary byte stream into whole TS packets, resynchronising on the sync byte
 * when the stream is cut mid-packet (a push reconnect, a restart).
 */
export class TsPacketAligner {
  private pending: Uint8Array = new Uint8Array(0);

  /** Whole packets contained in what has arrived so far. */
  push(chunk: Uint8Array): Uint8Array {
    let data = chunk;
    if (this.pending.length > 0) {
      data = new Uint8Array(this.pending.length + chunk.length);
      data.set(this.pending);
      data.set(chunk, this.pending.length);
    }
    let start = 0;
    while (
      start < data.length &&
      !(
        data[start] === SYNC_BYTE &&
        (start + TS_PACKET_SIZE >= data.length || data[start + TS_PACKET_SIZE] === SYNC_BYTE)
      )
    ) {
      start++;
    }
    const whole = Math.floor((data.length - start) / TS_PACKET_SIZE) * TS_PACKET_SIZE;
    this.pending = data.slice(start + whole);
    return data.subarray(start, start + whole);
  }
}

/** The first PTS found in a run of whole packets. */
export function firstPts(packets: Uint8Array): number | undefined {
  for (let p = 0; p + TS_PACKET_SIZE <= packets.length; p += TS_PACKET_SIZE) {
    const pts = ptsOfPacket(packets.subarray(p, p + TS_PACKET_SIZE));
    if (pts !== undefined) return pts;
  }
  return undefined;
}
