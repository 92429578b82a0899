/**
 * The manifest filter players and operators write as `?aws.manifestfilter=` (docs/manifests.md,
 * "Manifest filter"): the grammar and the limits of AWS Elemental MediaPackage v2, so a player
 * built for MediaPackage works here unchanged. `key:value` pairs joined by `;`; a value is a `,`
 * list of items, a numeric item a number or an inclusive `a-b` range; not case-sensitive; at most
 * 1,024 characters. Parsing returns the filter or the reason it is refused; the edge decides the
 * status.
 */

/** The longest filter MediaPackage accepts (characters, after URL decoding). */
export const MAX_FILTER_LENGTH = 1024;

/** Keys whose values come from a fixed list (MediaPackage's code names, compared lower-case). */
export const FILTER_CODES = {
  video_codec: ['h264', 'h265', 'av1'],
  audio_codec: ['aacl', 'aach', 'ac-3', 'ec-3'],
  video_dynamic_range: ['sdr', 'hdr10', 'hlg', 'dv'],
  trickplay_type: ['iframe', 'image', 'none'],
} as const;

/** Numeric keys and the values MediaPackage accepts for them (INT_MAX is 2147483647). */
export const FILTER_NUMBERS = {
  video_height: { min: 1, max: 32_767, decimals: 0 },
  video_bitrate: { min: 0, max: 2_147_483_647, decimals: 0 },
  video_framerate: { min: 1, max: 999.999, decimals: 3 },
  audio_channels: { min: 1, max: 32_767, decimals: 0 },
  audio_sample_rate: { min: 0, max: 2_147_483_647, decimals: 0 },
  audio_bitrate: { min: 0, max: 2_147_483_647, decimals: 0 },
  trickplay_height: { min: 1, max: 2_147_483_647, decimals: 0 },
} as const;

/** Free-text keys: language codes as the publisher declared them (ISO 639, BCP 47). */
export const FILTER_TEXTS = ['audio_language', 'subtitle_language'] as const;

export type CodeKey = keyof typeof FILTER_CODES;
export type NumberKey = keyof typeof FILTER_NUMBERS;
export type TextKey = (typeof FILTER_TEXTS)[number];
export type FilterKey = CodeKey | NumberKey | TextKey;

/** An inclusive range; a single value is [v, v]. */
export type Range = readonly [number, number];

export interface ManifestFilter {
  /** Code and text keys: lower-case values, sorted, without duplicates. */
  lists: Partial<Record<CodeKey | TextKey, string[]>>;
  /** Numeric keys: sorted ranges, overlapping (and, for integers, adjacent) ones merged. */
  ranges: Partial<Record<NumberKey, Range[]>>;
  /**
   * The filter written one way: keys sorted, values sorted and merged, lower-case. Two spellings
   * of the same filter give the same string, which is what the edge cache key carries.
   */
  normalised: string;
}

export type FilterResult = { ok: true; filter: ManifestFilter } | { ok: false; message: string };

const TEXT_VALUE = /^[a-z0-9][a-z0-9_-]{0,34}$/;
const KEY_LIST = [...Object.keys(FILTER_CODES), ...Object.keys(FILTER_NUMBERS), ...FILTER_TEXTS].sort().join(', ');

/** Parse one `aws.manifestfilter` value (already URL-decoded). */
export function parseManifestFilter(raw: string): FilterResult {
  if (raw.length > MAX_FILTER_LENGTH)
    return refuse(`the filter is ${raw.length} characters long; at most ${MAX_FILTER_LENGTH} are allowed`);
  const text = raw.trim().toLowerCase();
  if (text === '') return refuse('the filter is empty; write key:value pairs joined by ";"');
  const lists: ManifestFilter['lists'] = {};
  const ranges: ManifestFilter['ranges'] = {};
  const seen = new Set<string>();
  for (const pair of text.split(';')) {
    const parts = pair.split(':');
    if (parts.length !== 2 || parts[0].trim() === '' || parts[1].trim() === '')
      return refuse(`"${pair}" is not a key:value pair (one ":" between a key and its values)`);
    const key = parts[0].trim();
    const items = parts[1].split(',').map((v) => v.trim());
    if (!isKey(key)) return refuse(`unknown key "${key}"; the keys are ${KEY_LIST}`);
    if (seen.has(key)) return refuse(`key ${key} appears twice; give all its values in one list`);
    seen.add(key);
    if (items.some((v) => v === '')) return refuse(`${key}: an empty value in "${parts[1]}"`);
    if (key in FILTER_NUMBERS) {
      const parsed: Range[] = [];
      for (const item of items) {
        const range = parseRange(key as NumberKey, item);
        if (typeof range === 'string') return refuse(range);
        parsed.push(range);
      }
      ranges[key as NumberKey] = mergeRanges(parsed, FILTER_NUMBERS[key as NumberKey].decimals === 0);
    } else if (key in FILTER_CODES) {
      const allowed: readonly string[] = FILTER_CODES[key as CodeKey];
      const unknown = items.find((v) => !allowed.includes(v));
      if (unknown !== undefined)
        return refuse(`${key}: "${unknown}" is not one of ${allowed.map((a) => a.toUpperCase()).join(', ')}`);
      lists[key as CodeKey] = [...new Set(items)].sort();
    } else {
      const bad = items.find((v) => !TEXT_VALUE.test(v));
      if (bad !== undefined)
        return refuse(`${key}: "${bad}" is not a language code (letters, digits, "-" and "_", at most 35)`);
      lists[key as TextKey] = [...new Set(items)].sort();
    }
  }
  const keys = [...seen].sort();
  const normalised = keys
    .map((k) => {
      const r = ranges[k as NumberKey];
      const values = r ? r.map(([a, b]) => (a === b ? String(a) : `${a}-${b}`)) : (lists[k as CodeKey | TextKey] ?? []);
      return `${k}:${values.join(',')}`;
    })
    .join(';');
  return { ok: true, filter: { lists, ranges, normalised } };
}

function isKey(key: string): key is FilterKey {
  return key in FILTER_CODES || key in FILTER_NUMBERS || (FILTER_TEXTS as readonly string[]).includes(key);
}

function refuse(message: string): FilterResult {
  return { ok: false, message };
}

/** `n` or `a-b` within the key's limits, or why not. */
function parseRange(key: NumberKey, item: string): Range | string {
  const { min, max, decimals } = FILTER_NUMBERS[key];
  const number = decimals === 0 ? /^\d{1,10}$/ : new RegExp(`^\\d{1,10}(\\.\\d{1,${decimals}})?$`);
  const bounds = item.split('-');
  if (bounds.length > 2 || !bounds.every((b) => number.test(b)))
    return `${key}: "${item}" is not ${decimals === 0 ? 'a whole number' : `a number with at most ${decimals} decimals`} or an a-b range of them`;
  const [a, b = a] = bounds.map(Number);
  for (const v of [a, b]) if (v < min || v > max) return `${key}: ${v} is outside ${min}-${max}`;
  if (a > b) return `${key}: the range ${item} runs backwards (write ${b}-${a})`;
  return [a, b];
}

/** Sorted, with overlapping ranges (and, for whole numbers, adjacent ones: 1-2,3-4 is 1-4) merged. */
function mergeRanges(ranges: Range[], integers: boolean): Range[] {
  const sorted = [...ranges].sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + (integers ? 1 : 0)) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** Does a value fall in one of the ranges? (Frame rates: within 0.0005, as MediaPackage compares them.) */
export function inRanges(ranges: readonly Range[], value: number, epsilon = 0): boolean {
  return ranges.some(([a, b]) => value >= a - epsilon && value <= b + epsilon);
}
