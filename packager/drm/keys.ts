/**
 * Content keys and where they come from. The packager asks a KeyProvider for the key of
 * (event, track kind, key period); a development store derives keys from a public seed so a
 * tester can decrypt any stream with ffmpeg, and a production provider (CPIX/SPEKE key service)
 * answers the same question over HTTP.
 */
import { AppError } from '../../contract/errors.ts';

export type TrackKind = 'video' | 'audio' | 'text';

/** One content key: 16-byte KID and 16-byte AES-128 key. */
export interface ContentKey {
  kid: Uint8Array;
  key: Uint8Array;
}

export interface KeyProvider {
  /** The key protecting `kind` tracks of `event` during key period `period` (see keyPeriod). */
  getKey(event: string, kind: TrackKind, period: number): Promise<ContentKey>;
}

export interface RotationConfig {
  /** Change keys every N segments; 0 or undefined means one key for the whole event. */
  rotateEverySegments?: number;
}

/** Key period of epoch segment K: floor(K / N), or 0 without rotation. */
export function keyPeriod(k: number, config: RotationConfig = {}): number {
  const n = config.rotateEverySegments ?? 0;
  if (!Number.isInteger(n) || n < 0)
    throw new AppError('INTERNAL', `rotateEverySegments must be a non-negative integer, got ${n}`);
  return n === 0 ? 0 : Math.floor(k / n);
}

/**
 * The published development seed. Every key derived from it is public knowledge: it exists so
 * that demo streams are really encrypted yet anyone can decrypt them (docs/drm.md).
 */
export const DEV_KEY_SEED = 'live-origin-shield-dev-keys';

/**
 * Development keys, deterministic so that every pipeline, test and tester agrees without a key
 * service:
 *   kid = first 16 bytes of SHA-256("kid:<seed>:<event>:<kind>:<period>")
 *   key = first 16 bytes of SHA-256("key:<seed>:<event>:<kind>:<period>")
 * so `printf 'key:live-origin-shield-dev-keys:demo:video:0' | sha256sum | cut -c1-32` is the hex
 * key ffmpeg's -decryption_key wants. Never use it for anything that must stay secret.
 */
export class LocalKeyStore implements KeyProvider {
  readonly seed: string;
  /** When true, audio and video share the video key (one license, one KID, simpler players). */
  readonly sharedKey: boolean;
  private readonly cache = new Map<string, Promise<ContentKey>>();

  constructor(options: { seed?: string; sharedKey?: boolean } = {}) {
    this.seed = options.seed ?? DEV_KEY_SEED;
    this.sharedKey = options.sharedKey ?? false;
  }

  getKey(event: string, kind: TrackKind, period: number): Promise<ContentKey> {
    const label = `${this.seed}:${event}:${this.sharedKey ? 'video' : kind}:${period}`;
    let key = this.cache.get(label);
    if (!key) {
      key = Promise.all([digest16(`kid:${label}`), digest16(`key:${label}`)]).then(([kid, key]) => ({ kid, key }));
      this.cache.set(label, key);
    }
    return key;
  }
}

async function digest16(text: string): Promise<Uint8Array> {
  const hash = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return new Uint8Array(hash, 0, 16);
}

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/-/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new AppError('BAD_BODY', `'${hex}' is not hex`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** KID as a UUID string (8-4-4-4-12), the form DASH cenc:default_KID uses. */
export function kidToUuid(kid: Uint8Array): string {
  const h = toHex(kid);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** base64url without padding: the encoding of kids and keys in ClearKey license JSON. */
export function toBase64Url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64Url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}
