import { TS_PACKET_SIZE } from './ts-timestamps.ts';

/** One audio elementary stream of the contribution feed, as its PMT and first frame describe it. */
export interface SourceAudioStream {
  /** MPEG-TS PID: ffmpeg selects it with the stream specifier `0:i:<pid>`. */
  pid: number;
  /** ISO 639-2 code from the PMT's ISO_639_language_descriptor ("eng"), if the feed tags it. */
  language?: string;
  /** From the first ADTS header (AAC feeds); undefined for other codecs or before it was seen. */
  channels?: number;
  /** PMT stream_type (0x0f: AAC in ADTS, whose channel count this reader learns). */
  streamType: number;
}

export const ADTS_STREAM_TYPE = 0x0f;

/** Everything readable is known: a PMT was seen and every ADTS stream's first header was too. */
export function sourceAudioComplete(streams: SourceAudioStream[]): boolean {
  return streams.length > 0 && streams.every((s) => s.streamType !== ADTS_STREAM_TYPE || s.channels !== undefined);
}

/** Stream types that carry audio: MPEG-1/2 audio, AAC (ADTS, LATM), AC-3, E-AC-3. */
const AUDIO_STREAM_TYPES = new Set([0x03, 0x04, 0x0f, 0x11, 0x81, 0x87]);

interface Packet {
  pid: number;
  start: boolean;
  payload: Uint8Array;
}

function packetAt(data: Uint8Array, p: number): Packet | undefined {
  if (data[p] !== 0x47) return undefined;
  const pid = ((data[p + 1] & 0x1f) << 8) | data[p + 2];
  const adaptation = (data[p + 3] >> 4) & 0x3;
  if (adaptation === 0 || adaptation === 2) return undefined;
  const offset = adaptation === 3 ? 5 + data[p + 4] : 4;
  if (offset >= TS_PACKET_SIZE) return undefined;
  return { pid, start: (data[p + 1] & 0x40) !== 0, payload: data.subarray(p + offset, p + TS_PACKET_SIZE) };
}

/** The section a PSI packet starts (after its pointer field), bounded by section_length minus the CRC. */
function section(payload: Uint8Array): Uint8Array | undefined {
  const start = 1 + payload[0];
  if (start + 3 > payload.length) return undefined;
  const length = ((payload[start + 1] & 0x0f) << 8) | payload[start + 2];
  const end = start + 3 + length - 4;
  return end <= payload.length ? payload.subarray(start, end) : undefined; // a PMT larger than one packet is not expected here
}

/**
 * Audio streams of a run of whole TS packets (the feed the bridge holds before starting ffmpeg):
 * PAT → PMT → audio PIDs with their language descriptors, then each AAC stream's channel count
 * from its first ADTS header. Returns [] when no PMT was seen.
 */
export function readSourceAudio(packets: Uint8Array): SourceAudioStream[] {
  const pmtPids = new Set<number>();
  let streams: SourceAudioStream[] | undefined;
  for (let p = 0; p + TS_PACKET_SIZE <= packets.length; p += TS_PACKET_SIZE) {
    const pkt = packetAt(packets, p);
    if (!pkt?.start) continue;
    if (pkt.pid === 0) {
      const s = section(pkt.payload);
      if (s && s[0] === 0x00)
        for (let q = 8; q + 4 <= s.length; q += 4) {
          const program = (s[q] << 8) | s[q + 1];
          if (program !== 0) pmtPids.add(((s[q + 2] & 0x1f) << 8) | s[q + 3]);
        }
    } else if (pmtPids.has(pkt.pid) && !streams) {
      const s = section(pkt.payload);
      if (s && s[0] === 0x02) streams = parsePmt(s);
    } else if (streams) {
      const stream = streams.find((x) => x.pid === pkt.pid);
      if (stream && stream.streamType === ADTS_STREAM_TYPE && stream.channels === undefined)
        stream.channels = adtsChannels(pkt.payload);
    }
  }
  return streams ?? [];
}

function parsePmt(s: Uint8Array): SourceAudioStream[] {
  const out: SourceAudioStream[] = [];
  let q = 12 + (((s[10] & 0x0f) << 8) | s[11]);
  while (q + 5 <= s.length) {
    const streamType = s[q];
    const pid = ((s[q + 1] & 0x1f) << 8) | s[q + 2];
    const infoLength = ((s[q + 3] & 0x0f) << 8) | s[q + 4];
    const descriptors = s.subarray(q + 5, Math.min(s.length, q + 5 + infoLength));
    let language: string | undefined;
    // DVB carries AC-3 / E-AC-3 as private data (0x06) with an AC-3 (0x6a) or E-AC-3 (0x7a) descriptor.
    let audio = AUDIO_STREAM_TYPES.has(streamType);
    for (let d = 0; d + 2 <= descriptors.length; d += 2 + descriptors[d + 1]) {
      const tag = descriptors[d];
      if (tag === 0x0a && descriptors[d + 1] >= 3)
        language = String.fromCharCode(...descriptors.subarray(d + 2, d + 5)).toLowerCase();
      if (streamType === 0x06 && (tag === 0x6a || tag === 0x7a)) audio = true;
    }
    if (audio) out.push({ pid, streamType, language: language && language !== 'und' ? language : undefined });
    q += 5 + infoLength;
  }
  return out;
}

/** channel_configuration of the ADTS header at the start of a PES payload (7 means 7.1 = 8 channels). */
function adtsChannels(payload: Uint8Array): number | undefined {
  if (payload.length < 9 || payload[0] !== 0 || payload[1] !== 0 || payload[2] !== 1) return undefined;
  const h = 9 + payload[8];
  if (h + 4 > payload.length || payload[h] !== 0xff || (payload[h + 1] & 0xf0) !== 0xf0) return undefined;
  const config = ((payload[h + 2] & 0x01) << 2) | (payload[h + 3] >> 6);
  if (config === 0) return undefined; // signalled in-band (PCE): unknown here
  return config === 7 ? 8 : config;
}
