import type { DrmConfig } from '../contract/drm-config.ts';
import { AppError } from '../contract/errors.ts';
import { protectInit } from '../packager/drm/cenc-init.ts';
import { encryptSegment } from '../packager/drm/encrypt-segment.ts';
import { CpixKeyProvider } from '../packager/drm/cpix-key-provider.ts';
import { keyPeriod, LocalKeyStore, toHex, type ContentKey, type KeyProvider } from '../packager/drm/keys.ts';
import { readTrackProtection } from '../packager/drm/track-protection.ts';
import { readInitInfo, type InitInfo } from '../packager/init-info.ts';

/**
 * DRM at ingest (docs/drm.md): when an event has `drm`, the Worker protects each init and
 * encrypts each segment before the origin stores it. Everything is deterministic, so both
 * pipelines protect the same clear init to the same bytes (the 409 INIT_CONFLICT check keeps its
 * meaning) and a retried segment PUT encrypts to the same bytes (still 204).
 *
 * Keys come from the event's key source (`drm.keys`): the development LocalKeyStore (public
 * seed) by default, or a CPIX key service. A key that cannot be had fails the publish with a 502
 * before anything is stored. The development store is refused unless the deployment says it is
 * local development (devKeysAllowed), so published keys never protect anything in production.
 */
const localKeys: KeyProvider = new LocalKeyStore();
/** One CPIX client per key service and settings, kept for the isolate's life: its cache is what saves a request per segment. */
const cpixProviders = new Map<string, CpixKeyProvider>();

/**
 * Whether this deployment may use the development key store: only where `ALLOW_DEV_KEYS` is
 * exactly "true", which only `.dev.vars` sets (never wrangler.toml [vars], never production).
 */
export const devKeysAllowed = (env: Pick<Env, 'ALLOW_DEV_KEYS'>): boolean => env.ALLOW_DEV_KEYS === 'true';

/** Refuse a DRM setting whose keys would come from the development store where it is not allowed. */
export function requireAllowedKeySource(drm: DrmConfig, env: Pick<Env, 'ALLOW_DEV_KEYS'>): void {
  if ((drm.keys?.provider ?? 'local') === 'local' && !devKeysAllowed(env))
    throw new AppError(
      'DEV_KEYS_NOT_ALLOWED',
      'this deployment does not allow the development key store (its keys are published, docs/drm.md): use a CPIX key service ("keys": {"provider": "cpix", "url": …}), or set ALLOW_DEV_KEYS=true in .dev.vars for local development',
    );
}

export function keyProviderFor(drm: DrmConfig, env: Pick<Env, 'ALLOW_DEV_KEYS'>): KeyProvider {
  requireAllowedKeySource(drm, env);
  const source = drm.keys ?? { provider: 'local' };
  if (source.provider === 'local') return localKeys;
  const rotating = (drm.rotateEverySegments ?? 0) > 0;
  const id = JSON.stringify([source.url, drm.scheme, rotating, source.timeoutMs]);
  let provider = cpixProviders.get(id);
  if (!provider)
    cpixProviders.set(
      id,
      (provider = new CpixKeyProvider({ url: source.url, scheme: drm.scheme, rotating, timeoutMs: source.timeoutMs })),
    );
  return provider;
}

type Bytes = Uint8Array<ArrayBuffer>;

/** Protect a clear init (already validated by readInitInfo) under the period-0 key; text tracks stay clear. */
export async function protectIngestInit(
  env: Pick<Env, 'ALLOW_DEV_KEYS'>,
  event: string,
  drm: DrmConfig,
  clear: Bytes,
  info: InitInfo,
): Promise<{ bytes: Bytes; info: InitInfo }> {
  if (info.kind === 'text' || info.protection) return { bytes: clear, info };
  const key = await keyProviderFor(drm, env).getKey(event, info.kind, 0);
  const { init } = protectInit(clear, {
    scheme: drm.scheme,
    key,
    cencIvSize: drm.cencIvSize,
    constantIv: drm.scheme === 'cbcs' ? await constantIvFor(key) : undefined,
  });
  const bytes = init as Bytes;
  return { bytes, info: readInitInfo(bytes) };
}

/**
 * Encrypt a clear segment K for the track whose stored (protected) init is `init`, with the key of
 * K's key period. A clear stored init (text, or a publisher's own clear header) leaves it as is.
 */
export async function encryptIngestSegment(
  env: Pick<Env, 'ALLOW_DEV_KEYS'>,
  event: string,
  drm: DrmConfig,
  init: Uint8Array,
  k: number,
  clear: Bytes,
): Promise<Bytes> {
  const protection = readTrackProtection(init);
  if (!protection) return clear;
  const period = keyPeriod(k, drm);
  const key = await keyProviderFor(drm, env).getKey(event, protection.kind, period);
  const iv = protection.scheme === 'cenc' ? await segmentIv(clear) : undefined;
  const out = await encryptSegment(clear, protection, key, { iv, defaults: readInitInfo(init), keyPeriod: period });
  return out as Bytes;
}

/**
 * cbcs constant IV: derived from the key, so every pipeline writes the same tenc. (The IV is not
 * secret; it only has to be fixed per key.)
 */
async function constantIvFor(key: ContentKey): Promise<Uint8Array> {
  const hash = await crypto.subtle.digest(
    'SHA-256',
    new TextEncoder().encode(`cbcs-iv:${toHex(key.kid)}:${toHex(key.key)}`),
  );
  return new Uint8Array(hash, 0, 16);
}

/**
 * cenc IV₀ of a segment: the first 8 bytes of SHA-256 of its clear bytes. Different content gets
 * unrelated IVs (as random ones would: two pipelines never share a counter), the same content the
 * same IV, so a retry encrypts to identical bytes.
 */
async function segmentIv(clear: Bytes): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', clear), 0, 8);
}
