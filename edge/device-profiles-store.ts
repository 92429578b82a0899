import { cyrb53Parts } from '../contract/string-hash.ts';
import {
  BUILT_IN_PROFILES,
  type DeviceProfile,
  SAFE_DEFAULT_PROFILE,
  StoredProfiles,
} from '../contract/device-profile.ts';

/** The KV key of the stored device profiles (binding CONFIG), all in one value. */
export const DEVICE_PROFILES_KEY = 'device-profiles';

/**
 * How long this isolate trusts the profiles it read (as for the TTL rules): KV takes about a
 * minute to carry a change between locations anyway, and a short memo keeps KV reads off the
 * path of every manifest.
 */
const MEMO_MS = 5000;
let memo: { stored: StoredProfiles; readAt: number } | undefined;

/** A profile as the edge uses it: its name, where it comes from, and a hash of its definition for cache keys. */
export interface ResolvedProfile {
  name: string;
  profile: DeviceProfile;
  source: 'built-in' | 'stored';
  /** Changes whenever the definition does, so a changed profile never shares cache entries with the old one. */
  hash: string;
}

/** The operator's stored profiles (without the built-ins); `fresh` reads KV past the memo (the operator API). */
export async function storedProfiles(env: Env, fresh = false): Promise<StoredProfiles> {
  const nowMs = Date.now();
  if (!fresh && memo && nowMs - memo.readAt < MEMO_MS) return memo.stored;
  const raw = await env.CONFIG.get(DEVICE_PROFILES_KEY, 'json');
  // Validated when put; a value that no longer parses (an older schema) is ignored, not trusted.
  const parsed = StoredProfiles.safeParse(raw ?? {});
  memo = { stored: parsed.success ? parsed.data : {}, readAt: nowMs };
  return memo.stored;
}

/**
 * The stored profiles this isolate read, while it still trusts them (undefined once the memo is
 * older than MEMO_MS): a new object after every read and put, so what is worked out from one
 * (edge/personalisation.ts keeps each request's personalisation) can tell when it is out of date.
 */
export function trustedStoredProfiles(): StoredProfiles | undefined {
  return memo && Date.now() - memo.readAt < MEMO_MS ? memo.stored : undefined;
}

export async function putStoredProfiles(env: Env, stored: StoredProfiles): Promise<void> {
  await env.CONFIG.put(DEVICE_PROFILES_KEY, JSON.stringify(stored));
  memo = { stored, readAt: Date.now() };
}

/** Every profile by name: the built-ins, with stored ones added or overriding them. */
export async function allProfiles(env: Env, fresh = false): Promise<ResolvedProfile[]> {
  const stored = await storedProfiles(env, fresh);
  const names = [...new Set([...Object.keys(BUILT_IN_PROFILES), ...Object.keys(stored)])].sort();
  return names.map((name) => resolved(name, stored[name], BUILT_IN_PROFILES[name as keyof typeof BUILT_IN_PROFILES]));
}

/** The profile of that name, or undefined. */
export async function findProfile(env: Env, name: string, fresh = false): Promise<ResolvedProfile | undefined> {
  const stored = await storedProfiles(env, fresh);
  const own = Object.hasOwn(stored, name) ? stored[name] : undefined;
  const builtIn = Object.hasOwn(BUILT_IN_PROFILES, name)
    ? BUILT_IN_PROFILES[name as keyof typeof BUILT_IN_PROFILES]
    : undefined;
  return own || builtIn ? resolved(name, own, builtIn) : undefined;
}

/** The profile for a device name: its own, or the safe default for a name nobody configured. */
export async function profileForDevice(
  env: Env,
  name: string,
): Promise<{ resolved: ResolvedProfile; unknown: boolean }> {
  const own = await findProfile(env, name);
  if (own) return { resolved: own, unknown: false };
  const fallback = await findProfile(env, SAFE_DEFAULT_PROFILE);
  if (!fallback) throw new Error(`the safe default profile ${SAFE_DEFAULT_PROFILE} is missing`);
  return { resolved: fallback, unknown: true };
}

const hashes = new WeakMap<object, string>();

function resolved(
  name: string,
  stored: DeviceProfile | undefined,
  builtIn: DeviceProfile | undefined,
): ResolvedProfile {
  const profile = (stored ?? builtIn) as DeviceProfile;
  let hash = hashes.get(profile);
  if (hash === undefined) {
    hash = definitionHash(profile);
    hashes.set(profile, hash);
  }
  return { name, profile, source: stored ? 'stored' : 'built-in', hash };
}

/** A short hash of a definition (keys sorted): 53-bit cyrb53, plenty to tell versions of one profile apart. */
export function definitionHash(value: unknown): string {
  const text = JSON.stringify(value, (_, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
  const { h1, h2 } = cyrb53Parts(text);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}
