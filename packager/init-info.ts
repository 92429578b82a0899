import { AppError } from '../contract/errors.ts';
import { BoxFields, children, malformed, readBoxes, requirePath, type Box } from './bmff/box-reader.ts';
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

/**
 * Parse a CMAF header (ftyp + moov with one trak and mvex). Throws MEDIA_NOT_INIT, or
 * MEDIA_MALFORMED naming the box and its offset: every field is read inside its own box, and what
 * the DRM packager reads later (avcC/hvcC NAL length size, tenc) is checked to be there.
 */
export function readInitInfo(bytes: Uint8Array): InitInfo {
  const top = readBoxes(bytes);
  if (!top.some((b) => b.type === 'moov')) {
    const types = top.map((b) => b.type).join(', ');
    throw new AppError('MEDIA_NOT_INIT', `an init segment needs ftyp and moov; this body has ${types || 'no boxes'}`);
  }
  if (top.some((b) => b.type === 'moof' || b.type === 'mdat')) {
    throw new AppError('MEDIA_NOT_INIT', 'an init segment must not carry media (moof/mdat found)');
  }
  const moov = requirePath(bytes, top, ['moov']);
  const traks = children(bytes, moov).filter((b) => b.type === 'trak');
  if (traks.length !== 1) throw malformed(moov, `a CMAF header carries exactly one track, found ${traks.length}`);
  const trak = [traks[0]];
  const tkhd = new BoxFields(bytes, requirePath(bytes, trak, ['trak', 'tkhd']));
  // creation_time, modification_time (64-bit in version 1), then track_ID.
  tkhd.skip(tkhd.versionAndFlags().version === 1 ? 16 : 8, 'creation and modification time');
  const trackId = tkhd.u32('track_ID');

  const mdhdBox = requirePath(bytes, trak, ['trak', 'mdia', 'mdhd']);
  const mdhd = new BoxFields(bytes, mdhdBox);
  mdhd.skip(mdhd.versionAndFlags().version === 1 ? 16 : 8, 'creation and modification time');
  const timescale = mdhd.u32('timescale');
  if (timescale === 0) throw malformed(mdhdBox, 'timescale is 0');
  const hdlr = new BoxFields(bytes, requirePath(bytes, trak, ['trak', 'mdia', 'hdlr']), 8);
  const handler = hdlr.fourcc('handler_type');
  const kind = handlerKinds[handler];
  if (!kind) throw new AppError('MEDIA_UNSUPPORTED_CODEC', `handler '${handler}' is not video, audio or text`);

  const stsdBox = requirePath(bytes, trak, ['trak', 'mdia', 'minf', 'stbl', 'stsd']);
  const stsd = new BoxFields(bytes, stsdBox, 4);
  const entryCount = stsd.u32('entry_count');
  const entries = children(bytes, stsdBox, 8);
  if (entries.length === 0) throw malformed(stsdBox, 'has no sample entry');
  if (entryCount === 0 || entryCount > entries.length)
    throw malformed(stsdBox, `entry_count ${entryCount} but it holds ${entries.length} sample entries`);
  const entry = originalEntry(bytes, entries[0]);

  const trex = findTrex(bytes, top, trackId);
  const info: InitInfo = {
    trackId,
    kind,
    timescale,
    sampleEntry: entry.type,
    codecs: entry.type,
    defaultSampleDuration: trex?.defaultSampleDuration ?? 0,
    defaultSampleSize: trex?.defaultSampleSize ?? 0,
    defaultSampleFlags: trex?.defaultSampleFlags ?? 0,
  };
  if (kind === 'video') readVisualEntry(bytes, entry, info);
  if (kind === 'audio') readAudioEntry(bytes, entry, info);
  if (entry.protection) info.protection = entry.protection;
  return info;
}

/** Bytes of a VisualSampleEntry / AudioSampleEntry before their child boxes. */
const VISUAL_FIELDS = 78;
const AUDIO_FIELDS = 28;
const CHILD_OFFSET: Record<string, number> = { encv: VISUAL_FIELDS, enca: AUDIO_FIELDS };

/**
 * A protected sample entry (encv/enca) keeps the original entry's fields and children (avcC,
 * esds, …) at the same offsets and adds sinf: read it as the format sinf/frma names.
 */
function originalEntry(bytes: Uint8Array, entry: Box): Box & { protection?: InitInfo['protection'] } {
  const skip = CHILD_OFFSET[entry.type];
  if (skip === undefined) return entry;
  const sinf = children(bytes, entry, skip).find((b) => b.type === 'sinf');
  if (!sinf) throw malformed(entry, 'protected sample entry lacks sinf');
  const inner = children(bytes, sinf);
  const frma = inner.find((b) => b.type === 'frma');
  const schm = inner.find((b) => b.type === 'schm');
  const schi = inner.find((b) => b.type === 'schi');
  const tenc = schi && children(bytes, schi).find((b) => b.type === 'tenc');
  if (!frma || !schm || !tenc) throw malformed(sinf, 'needs frma, schm and schi/tenc');
  const scheme = new BoxFields(bytes, schm, 4).fourcc('scheme_type');
  if (scheme !== 'cenc' && scheme !== 'cbcs')
    throw new AppError('MEDIA_UNSUPPORTED_CODEC', `protection scheme '${scheme}' is not supported (cenc, cbcs)`);
  const t = new BoxFields(bytes, tenc, 4);
  t.skip(3, 'reserved, pattern and default_isProtected');
  const ivSize = t.u8('default_Per_Sample_IV_Size');
  const kid = t.bytesOf(16, 'default_KID');
  if (ivSize !== 0 && ivSize !== 8 && ivSize !== 16)
    throw malformed(tenc, `Per_Sample_IV_Size ${ivSize} is not 0, 8 or 16`);
  if (ivSize === 0) t.bytesOf(t.u8('default_constant_IV_size'), 'default_constant_IV');
  const defaultKid = Array.from(kid, hex2).join('');
  const original = new BoxFields(bytes, frma).fourcc('data_format');
  return { ...entry, type: original, protection: { scheme, defaultKid } };
}

function findTrex(bytes: Uint8Array, top: Box[], trackId: number): TrackDefaults | undefined {
  const mvex = requirePath(bytes, top, ['moov', 'mvex']);
  for (const box of children(bytes, mvex)) {
    if (box.type !== 'trex') continue;
    const f = new BoxFields(bytes, box, 4);
    if (f.u32('track_ID') !== trackId) continue;
    f.u32('default_sample_description_index');
    return {
      trackId,
      defaultSampleDuration: f.u32('default_sample_duration'),
      defaultSampleSize: f.u32('default_sample_size'),
      defaultSampleFlags: f.u32('default_sample_flags'),
    };
  }
  return undefined;
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/** Shortest avcC (AVCDecoderConfigurationRecord up to numOfPictureParameterSets) and hvcC (up to numOfArrays). */
const MIN_AVCC = 7;
const MIN_HVCC = 23;

function readVisualEntry(bytes: Uint8Array, entry: Box, info: InitInfo): void {
  const f = new BoxFields(bytes, entry, 24);
  info.width = f.u16('width');
  info.height = f.u16('height');
  const boxes = children(bytes, entry, VISUAL_FIELDS);
  if (entry.type === 'avc1' || entry.type === 'avc3') {
    const avcC = boxes.find((b) => b.type === 'avcC');
    if (!avcC) throw malformed(entry, 'lacks avcC');
    const c = new BoxFields(bytes, avcC).bytesOf(MIN_AVCC, 'AVCDecoderConfigurationRecord');
    info.codecs = `${entry.type}.${hex2(c[1])}${hex2(c[2])}${hex2(c[3])}`;
  } else if (entry.type === 'hvc1' || entry.type === 'hev1') {
    const hvcC = boxes.find((b) => b.type === 'hvcC');
    if (!hvcC) throw malformed(entry, 'lacks hvcC');
    info.codecs = hevcCodecs(
      entry.type,
      new BoxFields(bytes, hvcC).bytesOf(MIN_HVCC, 'HEVCDecoderConfigurationRecord'),
    );
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
  const f = new BoxFields(bytes, entry, 16);
  info.channels = f.u16('channelcount');
  f.skip(6, 'samplesize, pre_defined and reserved');
  info.sampleRate = f.u32('samplerate') >>> 16;
  const boxes = children(bytes, entry, AUDIO_FIELDS);
  if (entry.type === 'ec-3' || entry.type === 'ac-3') {
    info.codecs = entry.type;
    // The sample entry's channelcount is fixed at 2 for (E-)AC-3 (ETSI TS 102 366 Annex F); the
    // real layout is acmod + lfeon in dac3/dec3.
    const specific = boxes.find((b) => b.type === (entry.type === 'ec-3' ? 'dec3' : 'dac3'));
    if (specific) info.channels = dolbyChannels(bytes.subarray(specific.payload, specific.end), entry.type === 'ec-3');
    return;
  }
  if (entry.type !== 'mp4a')
    throw new AppError(
      'MEDIA_UNSUPPORTED_CODEC',
      `audio sample entry '${entry.type}' is not supported (mp4a, ec-3, ac-3)`,
    );
  const esds = boxes.find((b) => b.type === 'esds');
  if (!esds) throw malformed(entry, 'lacks esds');
  new BoxFields(bytes, esds).versionAndFlags();
  info.codecs = `mp4a.40.${aacObjectType(esds, bytes.subarray(esds.payload + 4, esds.end))}`;
}

/** Channels of the first independent substream: acmod's full-band channels plus the LFE. */
function dolbyChannels(c: Uint8Array, eac3: boolean): number | undefined {
  const fullBand = [2, 1, 2, 3, 3, 4, 4, 5];
  // dac3: fscod(2) bsid(5) bsmod(3) acmod(3) lfeon(1) …; dec3: data_rate(13) num_ind_sub(3), then
  // fscod(2) bsid(5) reserved(1) asvc(1) bsmod(3) acmod(3) lfeon(1) …
  if (eac3) return c.length >= 4 ? fullBand[(c[3] >> 1) & 7] + (c[3] & 1) : undefined;
  return c.length >= 2 ? fullBand[(c[1] >> 3) & 7] + ((c[1] >> 2) & 1) : undefined;
}

/**
 * Walk ES_Descriptor → DecoderConfigDescriptor → DecoderSpecificInfo to the AAC object type. `d`
 * is esds's payload after version and flags; every byte read is checked to be inside it.
 */
function aacObjectType(esds: Box, d: Uint8Array): number {
  let p = 0;
  const byte = (what: string): number => {
    if (p >= d.byteLength) throw malformed(esds, `${what} at byte ${p} of its descriptors runs past the box`);
    return d[p++];
  };
  const skip = (n: number, what: string) => {
    if (p + n > d.byteLength) throw malformed(esds, `${what} at byte ${p} of its descriptors runs past the box`);
    p += n;
  };
  const readDescriptor = (): number => {
    const tag = byte('descriptor tag');
    for (let i = 0; i < 4; i++) if (!(byte('descriptor size') & 0x80)) break;
    return tag;
  };
  if (readDescriptor() !== 0x03) throw malformed(esds, 'does not start with an ES_Descriptor');
  skip(2, 'ES_ID');
  const esFlags = byte('ES_Descriptor flags');
  if (esFlags & 0x80) skip(2, 'dependsOn_ES_ID');
  if (esFlags & 0x40) skip(byte('URLlength'), 'URLstring');
  if (esFlags & 0x20) skip(2, 'OCR_ES_Id');
  if (readDescriptor() !== 0x04) throw malformed(esds, 'lacks a DecoderConfigDescriptor');
  const objectType = byte('objectTypeIndication');
  if (objectType !== 0x40)
    throw new AppError('MEDIA_UNSUPPORTED_CODEC', `mp4a object type 0x${hex2(objectType)} is not MPEG-4 audio`);
  skip(12, 'DecoderConfigDescriptor fields');
  if (readDescriptor() !== 0x05) throw malformed(esds, 'lacks a DecoderSpecificInfo');
  return byte('AudioSpecificConfig') >> 3;
}
