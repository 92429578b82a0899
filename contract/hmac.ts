/**
 * HMAC-SHA256 and a constant-time comparison, for the project's signed tokens (scoped contribution
 * tokens, contract/scoped-token.ts; player tokens, contract/player-token.ts).
 */

const cryptoKeys = new Map<string, Promise<CryptoKey>>();

/** HMAC-SHA256 of `body` under `secret`; the imported key is kept (a few secrets per deployment). */
export async function hmacSha256(secret: string, body: string): Promise<Uint8Array> {
  let key = cryptoKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
    ]);
    // A few keys per deployment at most; bounded anyway.
    if (cryptoKeys.size > 8) cryptoKeys.clear();
    cryptoKeys.set(secret, key);
  }
  return new Uint8Array(await crypto.subtle.sign('HMAC', await key, new TextEncoder().encode(body)));
}

/** Equal bytes, in a time that does not depend on where they differ. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
