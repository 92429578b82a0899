import { AppError } from '../contract/errors.ts';
import { children, fourcc, readBoxes, requirePath, view, type Box } from './bmff/box-reader.ts';
import type { TrackDefaults } from './fragment-reader.ts';

/** What a CMAF header says about its single track; the origin builds manifests from this. */
export interface InitInfo extends TrackDefaults {
  kind: 'video' | 'audio' | 'text';
  timescale: number;
  /** RFC 6381 codecs string read from the sample entry, e.g. avc1.4d401f or mp4a.40.2. */
  codecs: string;
  sampleEntry: string;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
}

const handlerKinds: Record<string, InitInfo['kind']> = { vide: 'video', soun: 'audio', text: 'text', subt: 'text' };

/** Parse a CMAF header (ftyp + moov with one trak and mvex). Throws MEDIA_NOT_INIT / MEDIA_MALFORMED. */
export function readInitInfo(bytes: Uint8Array): InitInfo {
  const top = readBoxes(bytes);
  if (!top.some((b) => b.type === 'moov')) {
    const types = top.map((b) => b.type).join(', ');
    throw new AppError('MEDIA_NOT_INIT', `an init segment needs ftyp and moov; this body has ${types || 'no boxes'}`);
  }
  if (top.some((b) => b.type === 'moof' || b.type === 'mdat')) {
    throw new AppError('MEDIA_NOT_INIT', 'an init segment must not carry media (moof/mdat found)');
  }
  const dv = view(bytes);
  const moov = requirePath(bytes, top, ['moov']);
  const traks = children(bytes, moov).filter((b) => b.type === 'trak');
  if (traks.length !== 1) throw new AppError('MEDIA_MALFORMED', `a CMAF header carries exactly one track, found ${traks.length}`);
  const trak = [traks[0]];
  const tkhd = requirePath(bytes, trak, ['trak', 'tkhd']);
  const tkhdVersion = dv.getUint8(tkhd.payload);
  const trackId = dv.getUint32(tkhd.payload + (tkhdVersion === 1 ? 20 : 12));

  const mdhd = requirePath(bytes, trak, ['trak', 'mdia', 'mdhd']);
  const timescale = dv.getUint32(mdhd.payload + (dv.getUint8(mdhd.payload) === 1 ? 20 : 12));
  if (timescale === 0) throw new AppError('MEDIA_MALFORMED', 'mdhd timescale is 0');
  const hdlr = requirePath(bytes, trak, ['trak', 'mdia', 'hdlr']);
  const handler = fourcc(bytes, hdlr.payload + 8);
  const kind = handlerKinds[handler];
  if (!kind) throw new AppError('MEDIA_UNSUPPORTED_CODEC', `handler '${handler}' is not video, audio or text`);

  const stsd = requirePath(bytes, trak, ['trak', 'mdia', 'minf', 'stbl', 'stsd']);
  const entries = children(bytes, stsd, 8);
  if (entries.length === 0) throw new AppError('MEDIA_MALFORMED', 'stsd has no sample entry');
  const entry = entries[0];

  const trex = findTrex(bytes, top, trackId);
  const info: InitInfo = {
    trackId,
    kind,
    timescale,
    sampleEntry: entry.type,
    codecs: entry.type,
    defaultSampleDuration: trex ? dv.getUint32(trex.payload + 12) : 0,
    defaultSampleSize: trex ? dv.getUint32(trex.payload + 16) : 0,
    defaultSampleFlags: trex ? dv.getUint32(trex.payload + 20) : 0,
  };
  if (kind === 'video') readVisualEntry(bytes, entry, info);
  if (kind === 'audio') readAudioEntry(bytes, entry, info);
  return info;
}

function findTrex(bytes: Uint8Array, top: Box[], trackId: number): Box | undefined {
  const mvex = requirePath(bytes, top, ['moov', 'mvex']);
  return children(bytes, mvex).find((b) => b.type === 'trex' && view(bytes).getUint32(b.payload + 4) === trackId);
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

function readVisualEntry(bytes: Uint8Array, entry: Box, info: InitInfo): void {
  const dv = view(bytes);
  info.width = dv.getUint16(entry.payload + 24);
  info.height = dv.getUint16(entry.payload + 26);
  const boxes = readBoxes(bytes, entry.payload + 78, entry.end);
  if (entry.type === 'avc1' || entry.type === 'avc3') {
    const avcC = boxes.find((b) => b.type === 'avcC');
    if (!avcC) throw new AppError('MEDIA_MALFORMED', `${entry.type} sample entry lacks avcC`);
    const p = avcC.payload;
    info.codecs = `${entry.type}.${hex2(bytes[p + 1])}${hex2(bytes[p + 2])}${hex2(bytes[p + 3])}`;
  } else if (entry.type === 'hvc1' || entry.type === 'hev1') {
    const hvcC = boxes.find((b) => b.type === 'hvcC');
    if (!hvcC) throw new AppError('MEDIA_MALFORMED', `${entry.type} sample entry lacks hvcC`);
    info.codecs = hevcCodecs(entry.type, bytes.subarray(hvcC.payload, hvcC.end));
  } else {
    throw new AppError('MEDIA_UNSUPPORTED_CODEC', `video sample entry '${entry.type}' is not supported (avc1, avc3, hvc1, hev1)`);
  }
}

/** ISO/IEC 14496-15 Annex E codecs string for HEVC. */
function hevcCodecs(type: string, c: Uint8Array): string {
  const space = ['', 'A', 'B', 'C'][c[1] >> 6];
  const tier = (c[1] >> 5) & 1 ? 'H' : 'L';
  const profile = c[1] & 0x1f;
  let compat = ((c[2] << 24) | (c[3] << 16) | (c[4] << 8) | c[5]) >>> 0;
  let reversed = 0;
  for (let i = 0; i < 32; i++) { reversed = (reversed << 1) | (compat & 1); compat >>>= 1; }
  const constraints = Array.from(c.subarray(6, 12));
  while (constraints.length > 0 && constraints[constraints.length - 1] === 0) constraints.pop();
  const tail = constraints.map((b) => b.toString(16).toUpperCase()).join('.');
  return `${type}.${space}${profile}.${(reversed >>> 0).toString(16).toUpperCase()}.${tier}${c[12]}${tail ? '.' + tail : ''}`;
}

function readAudioEntry(bytes: Uint8Array, entry: Box, info: InitInfo): void {
  const dv = view(bytes);
  info.channels = dv.getUint16(entry.payload + 16);
  info.sampleRate = dv.getUint32(entry.payload + 24) >>> 16;
  if (entry.type === 'ec-3' || entry.type === 'ac-3') {
    info.codecs = entry.type;
    return;
  }
  if (entry.type !== 'mp4a') throw new AppError('MEDIA_UNSUPPORTED_CODEC', `audio sample entry '${entry.type}' is not supported (mp4a, ec-3, ac-3)`);
  const esds = readBoxes(bytes, entry.payload + 28, entry.end).find((b) => b.type === 'esds');
  if (!esds) throw new AppError('MEDIA_MALFORMED', 'mp4a sample entry lacks esds');
  info.codecs = `mp4a.40.${aacObjectType(bytes.subarray(esds.payload + 4, esds.end))}`;
}

/** Walk ES_Descriptor → DecoderConfigDescriptor → DecoderSpecificInfo to the AAC object type. */
function aacObjectType(d: Uint8Array): number {
  let p = 0;
  const readDescriptor = (): { tag: number; start: number; size: number } => {
    const tag = d[p++];
    let size = 0;
    for (let i = 0; i < 4; i++) {
      const b = d[p++];
      size = (size << 7) | (b & 0x7f);
      if (!(b & 0x80)) break;
    }
    return { tag, start: p, size };
  };
  const es = readDescriptor();
  if (es.tag !== 0x03) throw new AppError('MEDIA_MALFORMED', 'esds does not start with an ES_Descriptor');
  const esFlags = d[p + 2];
  p += 3;
  if (esFlags & 0x80) p += 2;
  if (esFlags & 0x40) p += 1 + d[p];
  if (esFlags & 0x20) p += 2;
  const dc = readDescriptor();
  if (dc.tag !== 0x04) throw new AppError('MEDIA_MALFORMED', 'esds lacks a DecoderConfigDescriptor');
  if (d[p] !== 0x40) throw new AppError('MEDIA_UNSUPPORTED_CODEC', `mp4a object type 0x${hex2(d[p])} is not MPEG-4 audio`);
  p += 13;
  const dsi = readDescriptor();
  if (dsi.tag !== 0x05) throw new AppError('MEDIA_MALFORMED', 'esds lacks a DecoderSpecificInfo');
  return d[p] >> 3;
}
