import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEV_KEY_SEED, fromBase64Url, keyPeriod, kidToUuid, LocalKeyStore, toBase64Url, toHex } from './keys.ts';

describe('LocalKeyStore', () => {
  it('derives the documented keys: first 16 bytes of SHA-256("key:<seed>:<event>:<kind>:<period>")', async () => {
    const k = await new LocalKeyStore().getKey('demo', 'video', 0);
    const sha = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);
    expect(toHex(k.key)).toBe(sha(`key:${DEV_KEY_SEED}:demo:video:0`));
    expect(toHex(k.kid)).toBe(sha(`kid:${DEV_KEY_SEED}:demo:video:0`));
  });

  it('gives each kind and period its own key unless asked to share', async () => {
    const store = new LocalKeyStore();
    const [v0, a0, v1] = await Promise.all([
      store.getKey('e', 'video', 0),
      store.getKey('e', 'audio', 0),
      store.getKey('e', 'video', 1),
    ]);
    expect(new Set([toHex(v0.key), toHex(a0.key), toHex(v1.key)]).size).toBe(3);
    const shared = new LocalKeyStore({ sharedKey: true });
    expect(toHex((await shared.getKey('e', 'audio', 0)).kid)).toBe(toHex(v0.kid));
  });
});

describe('keyPeriod', () => {
  it('is floor(K / N), or 0 without rotation', () => {
    expect(keyPeriod(885_000_123)).toBe(0);
    expect(keyPeriod(885_000_123, { rotateEverySegments: 0 })).toBe(0);
    expect(keyPeriod(885_000_123, { rotateEverySegments: 1800 })).toBe(491_666);
    expect(keyPeriod(1799, { rotateEverySegments: 1800 })).toBe(0);
    expect(() => keyPeriod(1, { rotateEverySegments: -1 })).toThrow(/non-negative/);
  });
});

describe('encodings', () => {
  it('round-trips base64url and formats a KID as a UUID', () => {
    const kid = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
    expect(fromBase64Url(toBase64Url(kid))).toEqual(kid);
    expect(toBase64Url(kid)).not.toMatch(/[+/=]/);
    expect(kidToUuid(kid)).toBe('00112233-4455-6677-8899-aabbccddeeff');
  });
});
