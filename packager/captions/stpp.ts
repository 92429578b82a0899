import { box, concat, fullBox, str, u32, u8, type Part } from '../bmff/box-writer.ts';
import { SYNC_SAMPLE_FLAGS } from '../sample.ts';
import { writeSegment } from '../segment-writer.ts';
import type { Cue } from './cue.ts';
import { writeTtml } from './ttml.ts';

/** Track timescale of every stpp track: milliseconds, the unit cues are kept in. */
export const STPP_TIMESCALE = 1000;
/** RFC 6381 codecs of an IMSC1 text-profile track (DASH-IF IOP, ISO/IEC 14496-30 §5.5). */
export const STPP_CODECS = 'stpp.ttml.im1t';
const TTML_NAMESPACE = 'http://www.w3.org/ns/ttml';
const TRACK_ID = 1;

/**
 * The CMAF header of a caption track: ftyp; moov(mvhd, trak(tkhd, mdia(mdhd, hdlr 'subt',
 * minf(sthd, dinf, stbl(stsd(stpp), empty tables))), mvex(trex)). The language goes in mdhd
 * (ISO 639-2/T, 'und' when unknown) and in elng as the full BCP-47 tag.
 */
export function writeStppInit(language: string): Uint8Array<ArrayBuffer> {
  const zero4 = u32(0);
  const matrix = concat([0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000].map(u32));
  const mvhd = fullBox(
    'mvhd',
    0,
    0,
    zero4,
    zero4,
    u32(STPP_TIMESCALE),
    zero4,
    u32(0x00010000),
    Uint8Array.of(0x01, 0x00),
    new Uint8Array(10),
    matrix,
    new Uint8Array(24),
    u32(TRACK_ID + 1),
  );
  // flags 3: track enabled and in the presentation.
  const tkhd = fullBox(
    'tkhd',
    0,
    3,
    zero4,
    zero4,
    u32(TRACK_ID),
    zero4,
    zero4,
    new Uint8Array(8),
    Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0),
    matrix,
    zero4,
    zero4,
  );
  const mdhd = fullBox(
    'mdhd',
    0,
    0,
    zero4,
    zero4,
    u32(STPP_TIMESCALE),
    zero4,
    packedLanguage(iso639_2(language)),
    Uint8Array.of(0, 0),
  );
  const hdlr = fullBox('hdlr', 0, 0, zero4, str('subt'), new Uint8Array(12), str('Captions'), u8(0));
  const stppEntry = box(
    'stpp',
    new Uint8Array(6),
    Uint8Array.of(0, 1),
    cstring(TTML_NAMESPACE),
    cstring(''),
    cstring(''),
  );
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, u32(1), stppEntry),
    fullBox('stts', 0, 0, zero4),
    fullBox('stsc', 0, 0, zero4),
    fullBox('stsz', 0, 0, zero4, zero4),
    fullBox('stco', 0, 0, zero4),
  );
  const minf = box(
    'minf',
    fullBox('sthd', 0, 0),
    box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1))),
    stbl,
  );
  const mdia = box('mdia', mdhd, fullBox('elng', 0, 0, cstring(language)), hdlr, minf);
  const trex = fullBox('trex', 0, 0, u32(TRACK_ID), u32(1), zero4, zero4, zero4);
  const ftyp = box('ftyp', str('cmfc'), u32(0), str('iso6'), str('cmfc'), str('dash'));
  return concat([ftyp, box('moov', mvhd, box('trak', tkhd, mdia), box('mvex', trex))]);
}

/**
 * Segment K of a caption track: one sync sample spanning exactly D with tfdt = K·D (ms), whose
 * data is the IMSC1 document of the cues in [K·D, (K+1)·D). Written with the same segment
 * writer as audio and video, so the layout is the project's one CMAF layout.
 */
export function writeStppSegment(
  cues: readonly Cue[],
  k: number,
  durationMs: number,
  language: string,
): Uint8Array<ArrayBuffer> {
  const data = new TextEncoder().encode(writeTtml(cues, k, durationMs, language));
  // writeSegment builds its result with concat(), which owns a plain ArrayBuffer.
  return writeSegment({
    sequenceNumber: k,
    trackId: TRACK_ID,
    baseMediaDecodeTime: k * durationMs,
    samples: [{ dts: k * durationMs, duration: durationMs, flags: SYNC_SAMPLE_FLAGS, compositionOffset: 0, data }],
  }) as Uint8Array<ArrayBuffer>;
}

function cstring(text: string): Part {
  return concat([str(text), u8(0)]);
}

/** mdhd language: three 5-bit letters (each minus 0x60) after a zero pad bit. */
function packedLanguage(code: string): Part {
  const [a, b, c] = [...code].map((ch) => ch.charCodeAt(0) - 0x60);
  const v = ((a & 31) << 10) | ((b & 31) << 5) | (c & 31);
  return Uint8Array.of(v >> 8, v & 0xff);
}

/** ISO 639-1 → 639-2/T for the languages we expect; a three-letter tag is already one; else 'und'. */
const TWO_TO_THREE: Record<string, string> = {
  en: 'eng',
  es: 'spa',
  fr: 'fra',
  de: 'deu',
  it: 'ita',
  pt: 'por',
  nl: 'nld',
  ja: 'jpn',
  zh: 'zho',
  ko: 'kor',
  ar: 'ara',
  ru: 'rus',
  pl: 'pol',
  sv: 'swe',
  tr: 'tur',
  hi: 'hin',
};
export function iso639_2(tag: string): string {
  const primary = tag.split('-')[0].toLowerCase();
  if (/^[a-z]{3}$/.test(primary)) return primary;
  return TWO_TO_THREE[primary] ?? 'und';
}
