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
  /**
   * Present when the header is protected (encv/enca, ISO/IEC 23001-7): the scheme from
   * sinf/schm and tenc's default_KID (32 hex digits). `sampleEntry` and `codecs` then describe
   * the original format named in sinf/frma.
   */
  protection?: { scheme: 'cenc' | 'cbcs'; defaultKid: string };
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
  if (traks.length !== 1)
    throw new AppError('MEDIA_MALFORMED', `a CMAF header carries exactly one track, found ${traks.length}`);
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
  const entry = originalEntry(bytes, entries[0]);

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
  if (entry.protection) info.protection = entry.protection;
  return info;
}

/** Bytes of a VisualSampleEntry / AudioSampleEntry before their child boxes. */
const CHILD_OFFSET: Record<string, number> = { encv: 78, enca: 28 };

/**
 * A protected sample entry (encv/enca) keeps the original entry's fields and children (avcC,
 * esds, …) at the same offsets and adds sinf: read it as the format sinf/frma names.
 */
function originalEntry(bytes: Uint8Array, entry: Box): Box & { protection?: InitInfo['protection'] } {
  const skip = CHILD_OFFSET[entry.type];
  if (skip === undefined) return entry;
  const sinf = readBoxes(bytes, entry.payload + skip, entry.end).find((b) => b.type === 'sinf');
  if (!sinf) throw new AppError('MEDIA_MALFORMED', `${entry.type} sample entry lacks sinf`);
  const inner = children(bytes, sinf);
  const frma = inner.find((b) => b.type === 'frma');
  const schm = inner.find((b) => b.type === 'schm');
  const schi = inner.find((b) => b.type === 'schi');
  const tenc = schi && children(bytes, schi).find((b) => b.type === 'tenc');
  if (!frma || !schm || !tenc)
    throw new AppError('MEDIA_MALFORMED', `${entry.type} sinf needs frma, schm and schi/tenc`);
  const scheme = fourcc(bytes, schm.payload + 4);
  if (scheme !== 'cenc' && scheme !== 'cbcs')
    throw new AppError('MEDIA_UNSUPPORTED_CODEC', `protection scheme '${scheme}' is not supported (cenc, cbcs)`);
  if (tenc.end - tenc.payload < 24) throw new AppError('MEDIA_MALFORMED', 'tenc is too short');
  const kid = bytes.subarray(tenc.payload + 8, tenc.payload + 24);
  const defaultKid = Array.from(kid, hex2).join('');
  return { ...entry, type: fourcc(bytes, frma.payload), protection: { scheme, defaultKid } };
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
    throw new AppError(
      'MEDIA_UNSUPPORTED_CODEC',
      `video sample entry '${entry.type}' is not supported (avc1, avc3, hvc1, hev1)`,
    );
  }
}

/** ISO/IEC 14496-15 Annex E codecs string for HEVC. */
function hevcCodecs(type: string, c: Uint8Array): string {
  const space = ['', 'A', 'B', 'C'][c[1] >> 6];
  const tier = (c[1] >> 5) & 1 ? 'H' : 'L';
  const profile = c[1] & 0x1f;
  let compat = ((c[2] << 24) | (c[3] << 16) | (c[4] << 8) | c[5]) >>> 0;
  let reversed = 0;
  for (let i = 0; i < 32; i++) {
    reversed = (reversed << 1) | (compat & 1);
    compat >>>= 1;
  }
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
    // The sample entry's channelcount is fixed at 2 for (E-)AC-3 (ETSI TS 102 366 Annex F); the
    // real layout is acmod + lfeon in dac3/dec3.
    const specific = readBoxes(bytes, entry.payload + 28, entry.end).find(
      (b) => b.type === (entry.type === 'ec-3' ? 'dec3' : 'dac3'),
    );
    if (specific) info.channels = dolbyChannels(bytes.subarray(specific.payload, specific.end), entry.type === 'ec-3');
    return;
  }
  if (entry.type !== 'mp4a')
    throw new AppError(
      'MEDIA_UNSUPPORTED_CODEC',
      `audio sample entry '${entry.type}' is not supported (mp4a, ec-3, ac-3)`,
    );
  const esds = readBoxes(bytes, entry.payload + 28, entry.end).find((b) => b.type === 'esds');
  if (!esds) throw new AppError('MEDIA_MALFORMED', 'mp4a sample entry lacks esds');
  info.codecs = `mp4a.40.${aacObjectType(bytes.subarray(esds.payload + 4, esds.end))}`;
}

/** Channels of the first independent substream: acmod's full-band channels plus the LFE. */
function dolbyChannels(c: Uint8Array, eac3: boolean): number | undefined {
  const fullBand = [2, 1, 2, 3, 3, 4, 4, 5];
  // dac3: fscod(2) bsid(5) bsmod(3) acmod(3) lfeon(1) …; dec3: data_rate(13) num_ind_sub(3), then
  // fscod(2) bsid(5) reserved(1) asvc(1) bsmod(3) acmod(3) lfeon(1) …
  if (eac3) return c.length >= 4 ? fullBand[(c[3] >> 1) & 7] + (c[3] & 1) : undefined;
  return c.length >= 2 ? fullBand[(c[1] >> 3) & 7] + ((c[1] >> 2) & 1) : undefined;
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
  if (d[p] !== 0x40)
    throw new AppError('MEDIA_UNSUPPORTED_CODEC', `mp4a object type 0x${hex2(d[p])} is not MPEG-4 audio`);
  p += 13;
  const dsi = readDescriptor();
  if (dsi.tag !== 0x05) throw new AppError('MEDIA_MALFORMED', 'esds lacks a DecoderSpecificInfo');
  return d[p] >> 3;
}
