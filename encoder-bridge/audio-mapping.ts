import type { AudioRendition, Ladder } from '../contract/ladder.ts';
import type { SourceAudioStream } from './source-audio.ts';

/** ISO 639-1 ↔ 639-2 (both B and T forms) for the languages live events carry most. */
const ISO639: Record<string, string[]> = {
  en: ['eng'],
  es: ['spa'],
  fr: ['fra', 'fre'],
  de: ['deu', 'ger'],
  it: ['ita'],
  pt: ['por'],
  nl: ['nld', 'dut'],
  sv: ['swe'],
  no: ['nor'],
  da: ['dan'],
  fi: ['fin'],
  pl: ['pol'],
  cs: ['ces', 'cze'],
  el: ['ell', 'gre'],
  tr: ['tur'],
  ru: ['rus'],
  uk: ['ukr'],
  ar: ['ara'],
  he: ['heb'],
  hi: ['hin'],
  ja: ['jpn'],
  ko: ['kor'],
  zh: ['zho', 'chi'],
  ca: ['cat'],
  eu: ['eus', 'baq'],
  ga: ['gle'],
  cy: ['cym', 'wel'],
};

/** The primary language of a tag, as ISO 639-1 where this table knows it ("pt-BR" → "pt", "ger" → "de"). */
function primaryLanguage(tag: string): string {
  const lower = tag.toLowerCase().split('-')[0];
  return Object.entries(ISO639).find(([two, threes]) => two === lower || threes.includes(lower))?.[0] ?? lower;
}

/**
 * Both codes name the same language (en = eng, de = ger = deu). Region subtags are ignored: an
 * MPEG-TS language descriptor has three letters and no region, so "pt-BR" matches a "por" stream.
 */
export function sameLanguage(a: string, b: string): boolean {
  return primaryLanguage(a) === primaryLanguage(b);
}

/** The ISO 639-2 code an MPEG-TS language descriptor carries for a tag ("en" → "eng"), or undefined when unknown. */
export function iso639Part2(tag: string): string | undefined {
  const primary = primaryLanguage(tag);
  if (ISO639[primary]) return ISO639[primary][0];
  return /^[a-z]{3}$/.test(primary) ? primary : undefined;
}

export interface MappedRendition {
  rendition: AudioRendition;
  /** ffmpeg input stream specifier: `0:i:<pid>`, or `0:a:0` when the feed's PMT was not read. */
  source: string;
  /** The source stream's channel count when known (renditions with fewer channels are down-mixed). */
  sourceChannels?: number;
}

/**
 * Which source audio stream feeds each rendition of the ladder:
 *
 * 1. A rendition takes a stream tagged with its language (en = eng); among several, the one whose
 *    channel count equals the rendition's, else the smallest one with more (down-mixed).
 * 2. Untagged streams are taken to be in the ladder's first (primary) language, so a plain feed
 *    with one untagged stereo stream feeds the `local` ladder's English rendition.
 * 3. A rendition is never up-mixed and never fed another language: without a suitable stream it
 *    is skipped (with the reason), so "English 5.1" is never stereo and "Français" never English.
 * 4. When the PMT was not seen at all, every rendition takes the first audio stream (`0:a:0`).
 */
export function mapAudioRenditions(
  ladder: Ladder,
  streams: SourceAudioStream[],
): { mapped: MappedRendition[]; skipped: { id: string; reason: string }[] } {
  if (streams.length === 0)
    return { mapped: ladder.audio.map((rendition) => ({ rendition, source: '0:a:0' })), skipped: [] };
  const primary = ladder.audio[0].language;
  const mapped: MappedRendition[] = [];
  const skipped: { id: string; reason: string }[] = [];
  for (const rendition of ladder.audio) {
    const inLanguage = streams.filter((s) =>
      s.language ? sameLanguage(s.language, rendition.language) : sameLanguage(primary, rendition.language),
    );
    if (inLanguage.length === 0) {
      skipped.push({ id: rendition.id, reason: `no source audio stream in language "${rendition.language}"` });
      continue;
    }
    // Unknown channel counts (non-ADTS feeds) are trusted; known ones must be enough.
    const enough = inLanguage.filter((s) => s.channels === undefined || s.channels >= rendition.channels);
    if (enough.length === 0) {
      const best = Math.max(...inLanguage.map((s) => s.channels ?? 0));
      skipped.push({
        id: rendition.id,
        reason: `needs ${rendition.channels} channels; the "${rendition.language}" source has ${best} (never up-mixed)`,
      });
      continue;
    }
    const pick =
      enough.find((s) => s.channels === rendition.channels) ??
      [...enough].sort((a, b) => (a.channels ?? 99) - (b.channels ?? 99))[0];
    mapped.push({ rendition, source: `0:i:${pick.pid}`, sourceChannels: pick.channels });
  }
  return { mapped, skipped };
}
