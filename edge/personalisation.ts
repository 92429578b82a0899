import { DeviceName, SAFE_DEFAULT_PROFILE } from '../contract/device-profile.ts';
import { AppError } from '../contract/errors.ts';
import { type ManifestFilter, parseManifestFilter } from '../contract/manifest-filter.ts';
import type { ManifestInput } from '../contract/track.ts';
import { emptiedBy, personalise } from '../packager/manifest/personalise.ts';
import { profileForDevice, type ResolvedProfile, trustedStoredProfiles } from './device-profiles-store.ts';
import type { Ctx } from './route-handler.ts';

/** The query parameters of personalisation (docs/manifests.md). */
export const FILTER_PARAM = 'aws.manifestfilter';
export const DEVICE_PARAM = 'device';

/** What shapes one request's manifest beyond the event: the device's profile and the manifest filter. */
export interface RequestPersonalisation {
  device?: {
    /** The profile that applies (for a name nobody configured: the safe default's). */
    resolved: ResolvedProfile;
    /** The name asked for was neither stored nor built in. */
    unknown: boolean;
    /** `?device=` or a device claim of the player token (which wins). */
    from: 'query' | 'token';
  };
  filter?: ManifestFilter;
  /**
   * Added to the edge cache key: the profile's name and definition hash, where it came from, and
   * the normalised filter. Never a token, CMCD or anything else per viewer.
   */
  key: string;
  /**
   * For the URIs of the multivariant playlist (`device=…`), so media playlists get the same
   * profile. Undefined when nothing needs carrying (no device, or it comes in the token).
   */
  query?: string;
}

/**
 * The personalisation of this request. `deviceClaim`: the device claim of a verified player
 * token, if any (it wins over `?device=`, which anyone can write). `where`: a media playlist
 * takes a device but refuses a manifest filter (the filter shapes the MPD and the multivariant
 * playlist only, as in MediaPackage). Throws the 400s of a bad filter.
 */
export async function personalisationFor(
  c: Ctx,
  deviceClaim?: string,
  where: 'manifest' | 'media-playlist' = 'manifest',
): Promise<RequestPersonalisation> {
  const filters = c.req.queries(FILTER_PARAM);
  const asked = deviceClaim ?? c.req.query(DEVICE_PARAM);
  const from = deviceClaim !== undefined ? 'token' : 'query';
  if (filters === undefined && (asked === undefined || asked === '')) return NONE;
  // The same query and claim give the same personalisation while the profiles read stay the same.
  const memoKey = `${where}|${from}|${asked ?? ''}|${filters?.length ?? 0}|${filters?.join('\n') ?? ''}`;
  // Without a device nothing depends on the profiles.
  const profiles = () => (asked === undefined || asked === '' ? NO_DEVICE : trustedStoredProfiles());
  const trusted = profiles();
  const known = trusted && memo.get(memoKey);
  if (known && known.stored === trusted) return known.personal;
  const personal = await resolvePersonalisation(c.env, filters, asked, from, where);
  const stored = profiles();
  if (stored) {
    memo.set(memoKey, { stored, personal });
    if (memo.size > MEMO_MAX) memo.delete(memo.keys().next().value!);
  }
  return personal;
}

const NONE: RequestPersonalisation = { key: '' };
const NO_DEVICE = {};

/**
 * Personalisations worked out, by raw query (filter parsing was a tenth of a personalised
 * manifest's CPU): each holds the stored profiles it was resolved against, and counts only while
 * those are still the ones this isolate trusts (edge/device-profiles-store.ts). Refusals (a bad
 * filter) are never kept. Bounded, oldest first out.
 */
const MEMO_MAX = 512;
const memo = new Map<string, { stored: object; personal: RequestPersonalisation }>();

async function resolvePersonalisation(
  env: Env,
  filters: string[] | undefined,
  asked: string | undefined,
  from: 'query' | 'token',
  where: 'manifest' | 'media-playlist',
): Promise<RequestPersonalisation> {
  const filter = where === 'manifest' ? filterOf(filters) : (refuseFilter(filters), undefined);
  let device: RequestPersonalisation['device'];
  if (asked !== undefined && asked !== '') {
    const name = asked.trim().toLowerCase();
    // A name that could never be configured is just another device nobody configured.
    const { resolved, unknown } = DeviceName.safeParse(name).success
      ? await profileForDevice(env, name)
      : { resolved: (await profileForDevice(env, SAFE_DEFAULT_PROFILE)).resolved, unknown: true };
    device = { resolved, unknown, from };
  }
  const parts: string[] = [];
  if (device) parts.push(`dev=${device.from === 'token' ? 't' : 'q'}:${device.resolved.name}@${device.resolved.hash}`);
  if (filter) parts.push(`mf=${filter.normalised}`);
  return {
    device,
    filter,
    key: parts.length > 0 ? `|${parts.join('|')}` : '',
    query: device?.from === 'query' ? `${DEVICE_PARAM}=${encodeURIComponent(device.resolved.name)}` : undefined,
  };
}

function filterOf(values: string[] | undefined): ManifestFilter | undefined {
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > 1)
    throw new AppError(
      'MANIFEST_FILTER_INVALID',
      `${FILTER_PARAM} is given ${values.length} times; give one, with its pairs joined by ";"`,
    );
  const parsed = parseManifestFilter(values[0]);
  if (!parsed.ok) throw new AppError('MANIFEST_FILTER_INVALID', `${FILTER_PARAM}: ${parsed.message}`);
  return parsed.filter;
}

/** Segments, inits and media playlists take no manifest filter (400, as MediaPackage answers). */
export function refuseManifestFilter(params: URLSearchParams): void {
  refuseFilter(params.has(FILTER_PARAM) ? params.getAll(FILTER_PARAM) : undefined);
}

function refuseFilter(values: string[] | undefined): void {
  if (values !== undefined)
    throw new AppError(
      'MANIFEST_FILTER_NOT_HERE',
      `${FILTER_PARAM} applies to index.mpd and index.m3u8 only, not to segments, inits or media playlists`,
    );
}

/** The request's manifest input: personalised, or why there is nothing to list (a code for refusedAnswer). */
export function personalisedInput(
  input: ManifestInput,
  p: RequestPersonalisation,
  format: 'dash' | 'hls',
  checkEmpty: boolean,
):
  | { ok: true; input: ManifestInput }
  | { ok: false; code: 'NO_PLAYABLE_TRACKS' | 'MANIFEST_FILTER_EMPTY'; message: string } {
  const how = { profile: p.device?.resolved.profile, filter: p.filter, format };
  if (checkEmpty) {
    const emptied = emptiedBy(input, how);
    if (emptied === 'profile')
      return {
        ok: false,
        code: 'NO_PLAYABLE_TRACKS',
        message: `device profile ${p.device?.resolved.name} can play none of the audio and video tracks of event ${input.eventId}`,
      };
    if (emptied === 'filter')
      return {
        ok: false,
        code: 'MANIFEST_FILTER_EMPTY',
        message: `${FILTER_PARAM} "${p.filter?.normalised}" leaves no audio and no video track of event ${input.eventId}`,
      };
  }
  return { ok: true, input: personalise(input, how) };
}

/** Response headers that say how a manifest was personalised (the same for every request sharing its cache entry). */
export function personalisationHeaders(p: RequestPersonalisation): Record<string, string> {
  const headers: Record<string, string> = {};
  if (p.device) headers['x-device-profile'] = p.device.resolved.name;
  if (p.filter) headers['x-manifest-filter'] = p.filter.normalised;
  return headers;
}
