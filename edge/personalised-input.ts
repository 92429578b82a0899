import type { ManifestInput } from '../contract/track.ts';
import { cyrb53Parts } from '../contract/string-hash.ts';
import { parseEventState } from '../contract/event-state.ts';
import { generationOf } from './edge-answer.ts';
import { awaitAnother } from './edge-cache.ts';
import { rememberedEventState } from './event-state-memory.ts';
import type { Chosen } from './four-candidates.ts';
import { personalisedInput, type RequestPersonalisation } from './personalisation.ts';

/**
 * A short-lived memo, per event, of the manifest input the origin reported (its track list and
 * state), so the edge can tell which tracks a personalisation keeps before it looks anything up:
 * personalised manifests are then kept under the set of tracks they list (keptTrackKey), not under
 * the profile and filter that chose them. Two filters, or a profile and a filter, that keep the
 * same tracks share one cache entry and one fill, and every personalisation of an event is written
 * from one origin request per memo lifetime (docs/manifests.md, "Cache key").
 */

export interface InputAnswer {
  input: ManifestInput;
  version: number;
  eventState: string;
}

/** What one origin request for the event's manifest input brought back. */
export interface FetchedInput {
  chosen: Chosen<InputAnswer>;
  /** When the origin was asked: an answer written from it is as old as this. */
  fetchedAt: number;
  /** How long an answer written from it stays fresh (the TTL a manifest or its refusal gets). */
  ttlMs: number;
}

export interface Memo {
  fetched: FetchedInput;
  /** The event version and the edge's generation for it when asked: either moving forgets the memo. */
  version: number | undefined;
  generation: number;
  /** keptTrackKey's answers for this input, by personalisation. */
  keys: Map<string, string>;
  /** Answers written from it so far (the first one is the fill that asked the origin). */
  written: number;
}

/** Memos kept at once (oldest dropped first); each is a few KB. */
const MAX_EVENTS = 500;
/** keptTrackKey answers kept per memo (personalisations seen within one memo lifetime). */
const MAX_KEYS = 256;

const memos = new Map<string, { pending: Promise<Memo>; settled?: Memo }>();

/**
 * Where an answer's input came from, for its `x-manifest-input` header: the first answer written
 * from an origin request says `origin`, every later one `memo` (tests count origin requests so).
 */
export function inputSource(memo: Memo): 'origin' | 'memo' {
  return memo.written++ === 0 ? 'origin' : 'memo';
}

/**
 * The event's manifest input: the memo while it is fresh (younger than the TTL of the answer it
 * came with, same event version, no operator control since), else one origin request, shared by
 * every request that misses meanwhile (also by a `refresh`).
 */
export async function memoisedInput(
  event: string,
  fetch: () => Promise<FetchedInput>,
  /** Ask the origin even if the memo is fresh (it is older than what the caller may use). */
  refresh = false,
): Promise<Memo> {
  const kept = memos.get(event);
  if (kept?.settled && !refresh && isFresh(event, kept.settled)) return kept.settled;
  // Another request is asking the origin: wait for it (edge-cache.ts awaitAnother says why not directly).
  if (kept && !kept.settled) return awaitAnother(kept.pending);
  const generation = generationOf(event);
  const entry: { pending: Promise<Memo>; settled?: Memo } = {
    pending: fetch().then((fetched) => ({
      fetched,
      version: fetched.chosen.result.ok ? parseEventState(fetched.chosen.result.value.eventState)?.version : undefined,
      generation,
      keys: new Map(),
      written: 0,
    })),
  };
  memos.delete(event);
  memos.set(event, entry);
  if (memos.size > MAX_EVENTS) memos.delete(memos.keys().next().value!);
  try {
    entry.settled = await entry.pending;
  } catch (err) {
    if (memos.get(event) === entry) memos.delete(event);
    throw err;
  }
  return entry.settled;
}

function isFresh(event: string, memo: Memo): boolean {
  if (Date.now() >= memo.fetched.fetchedAt + memo.fetched.ttlMs) return false;
  if (memo.generation !== generationOf(event)) return false;
  const known = rememberedEventState(event)?.state.version;
  return known === undefined || memo.version === undefined || known === memo.version;
}

/**
 * What the edge cache key of a personalised manifest adds to its path: a hash of what shapes its
 * bytes — the ids of the tracks it lists in the order it lists them (the device's language
 * preference shows in that order), the same for the back-to-back next event, and which DRM
 * systems it signals (only when a listed track is encrypted). `carried`: a query the answer's URIs
 * carry (the multivariant playlist's `device=…`), which the bytes then hold too.
 * - The empty string when that is exactly the unpersonalised manifest: it shares the plain entry.
 * - A refusal (`NO_PLAYABLE_TRACKS`, `MANIFEST_FILTER_EMPTY`) names the profile or the filter in
 *   its message, so it stays keyed by them (`personal.key`), as does any origin refusal.
 */
export function keptTrackKey(
  memo: Memo,
  personal: RequestPersonalisation,
  format: 'dash' | 'hls',
  checkEmpty: boolean,
  carried: string | undefined,
): string {
  const asked = `${format}|${checkEmpty ? 1 : 0}|${carried ?? ''}|${personal.key}`;
  const known = memo.keys.get(asked);
  if (known !== undefined) return known;
  const result = memo.fetched.chosen.result;
  let key: string;
  if (!result.ok) key = personal.key;
  else {
    const shaped = personalisedInput(result.value.input, personal, format, checkEmpty);
    if (!shaped.ok) key = `${personal.key}|${shaped.code}`;
    else {
      const signature = trackSignature(shaped.input, personal.device?.resolved.profile.drm.system ?? 'all');
      key =
        carried === undefined && signature === trackSignature(result.value.input, 'all')
          ? ''
          : `|kt=${hash(signature)}${carried === undefined ? '' : `|q=${carried}`}`;
    }
  }
  if (memo.keys.size >= MAX_KEYS) memo.keys.clear();
  memo.keys.set(asked, key);
  return key;
}

function trackSignature(input: ManifestInput, drmSystem: string): string {
  const ids = (i: ManifestInput | undefined) => i?.tracks.map((t) => t.id).join(',') ?? '';
  const encrypted = [...input.tracks, ...(input.next?.input?.tracks ?? [])].some((t) => t.drm);
  return `${ids(input)}|${ids(input.next?.input)}|${encrypted ? drmSystem : 'clear'}`;
}

function hash(text: string): string {
  const { h1, h2 } = cyrb53Parts(text);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}
