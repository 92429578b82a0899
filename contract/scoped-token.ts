import { z } from 'zod';
import { EventId, PipelineId } from './ids.ts';
import { hmacSha256, timingSafeEqual } from './hmac.ts';

/**
 * Contribution credentials scoped to one event (and optionally one pipeline), so a leaked bridge
 * token cannot publish into another event, and a captioner's token cannot publish media.
 *
 * A token is `cs1.<claims>.<mac>`: base64url of the JSON claims and of HMAC-SHA256 over
 * `cs1.<claims>` with the deployment's `INGEST_TOKEN_KEY` (a Worker secret). The Worker checks the
 * MAC and the scope against the request, and stores nothing: minting needs no origin object, and
 * rotating the key revokes every token at once. WebCrypto only, so the same code runs in the
 * Worker, in the bridge and in tools.
 */
export const TOKEN_PREFIX = 'cs1';

export const TokenScope = z.enum(['ingest', 'captions']);
export type TokenScope = z.infer<typeof TokenScope>;

export const TokenClaims = z
  .object({
    /** What the token may do: `ingest` = the bridge's PUTs (media and caption cues); `captions` = POST captions. */
    scope: TokenScope,
    event: EventId,
    /** Ingest only: the one pipeline it may publish as; absent = any pipeline of the event. */
    pipeline: PipelineId.optional(),
  })
  .strict();
export type TokenClaims = z.infer<typeof TokenClaims>;

export async function mintToken(key: string, claims: TokenClaims): Promise<string> {
  const body = `${TOKEN_PREFIX}.${base64Url(new TextEncoder().encode(JSON.stringify(TokenClaims.parse(claims))))}`;
  return `${body}.${base64Url(await hmacSha256(key, body))}`;
}

/** The claims of a well-formed token whose MAC is right, or undefined (never says which part failed). */
export async function verifyToken(key: string, token: string): Promise<TokenClaims | undefined> {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== TOKEN_PREFIX || !key) return undefined;
  const body = `${parts[0]}.${parts[1]}`;
  const given = fromBase64Url(parts[2]);
  if (!given) return undefined;
  const expected = await hmacSha256(key, body);
  if (!timingSafeEqual(given, expected)) return undefined;
  const json = fromBase64Url(parts[1]);
  if (!json) return undefined;
  try {
    const claims = TokenClaims.safeParse(JSON.parse(new TextDecoder().decode(json)));
    return claims.success ? claims.data : undefined;
  } catch {
    return undefined;
  }
}

function base64Url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  try {
    return Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}
