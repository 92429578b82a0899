import { TrackId } from '../contract/ids.ts';
import type { AudioRendition, Ladder } from '../contract/ladder.ts';
import { sameLanguage } from './audio-mapping.ts';

/** Menu names of languages a ladder does not name itself (a derived rendition's label); others show their tag. */
const NAMES: Record<string, string> = {
  en: 'English',
  es: 'Español',
  fr: 'Français',
  de: 'Deutsch',
  it: 'Italiano',
  pt: 'Português',
  nl: 'Nederlands',
  sv: 'Svenska',
  pl: 'Polski',
  ja: '日本語',
  ko: '한국어',
  zh: '中文',
  ar: 'العربية',
};

const nameOf = (tag: string) => NAMES[tag.toLowerCase().split('-')[0]] ?? tag;

/**
 * The ladder with one set of audio renditions per event language, in the event's order (the
 * first is the main one): docs/configuration.md, "Audio languages".
 *
 * - A language the ladder names keeps the ladder's own renditions (ids, codecs, labels): the
 *   `sports-hd` preset with en,es,fr,de is exactly `aen aen51 aes aes51 afr ade`.
 * - A language it does not name gets a copy of the ladder's primary-language renditions, with the
 *   primary language in the id replaced by this one (`aen` → `aes`, `aen51` → `aes51`; another
 *   id gets `-<lang>` appended) and a label in that language. A pure function of (ladder,
 *   languages), so pipelines A and B of an event make the same tracks with the same ids.
 * - The ladder's renditions in other languages are left out.
 */
export function ladderForLanguages(ladder: Ladder, languages: string[]): Ladder {
  const primary = ladder.audio[0].language;
  const template = ladder.audio.filter((a) => sameLanguage(a.language, primary));
  const audio = languages.flatMap((language): AudioRendition[] => {
    const own = ladder.audio.filter((a) => sameLanguage(a.language, language));
    return own.length > 0 ? own : template.map((t) => derived(t, primary, language));
  });
  const ids = [...ladder.video, ...audio].map((t) => t.id);
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated)
    throw new Error(
      `audio languages ${languages.join(',')} give ladder '${ladder.name}' the track id "${repeated}" twice`,
    );
  return { ...ladder, audio };
}

function derived(template: AudioRendition, primary: string, language: string): AudioRendition {
  const tag = language.toLowerCase();
  const prefix = `a${primary.toLowerCase()}`;
  const id = template.id.startsWith(prefix) ? `a${tag}${template.id.slice(prefix.length)}` : `${template.id}-${tag}`;
  const primaryName = nameOf(primary);
  const label = template.label.startsWith(primaryName)
    ? `${nameOf(language)}${template.label.slice(primaryName.length)}`
    : `${template.label} (${nameOf(language)})`;
  if (!TrackId.safeParse(id).success) throw new Error(`audio language ${language} makes "${id}", not a valid track id`);
  return { ...template, id, language, label: label.slice(0, 64) };
}
