import { z } from 'zod';
import { hmacSha256, timingSafeEqual } from './hmac.ts';

/**
 * Signed player tokens in the style of CDN edge tokens (Akamai EdgeAuth):
 *
 *   st=1770000000~exp=1770003600~acl=/live/demo/*!/drm/clearkey/demo~ip=203.0.113.7~id=s42~dev=tv-hevc~kid=k1a2b3c4d~hmac=<64 hex>
 *
 * - `st`  (optional) not valid before this time, seconds since the epoch
 * - `exp` valid until this time (exclusive), seconds since the epoch
 * - `acl` the paths it opens, `!`-separated; `*` matches any run of characters, `/` included
 * - `ip`  (optional) the only client address it is good for (`cf-connecting-ip`)
 * - `id`  (optional) a session id, for logs; `dev` (optional) a device profile name
 * - `kid` (optional) which signing key: a fingerprint of the key (playerKeyId), so two active keys
 *   (`PLAYER_TOKEN_KEY`, `PLAYER_TOKEN_KEY_PREVIOUS`) can be told apart; without it every active
 *   key is tried
 * - `hmac` HMAC-SHA256, lowercase hex, over everything before `~hmac=` exactly as received.
 *
 * The characters a token may hold are all legal in a query value, a cookie, an XML attribute and
 * an HLS quoted string, so the edge copies a verified token into URLs as it is. Stateless: the
 * edge checks the MAC, the times and the request against the claims; nothing is stored. WebCrypto
 * only, so the same code mints in the Worker, in tools and in tests.
 */
export interface PlayerClaims {
  /** `st`: seconds since the epoch. */
  startsAt?: number;
  /** `exp`: seconds since the epoch; the token is refused from this second on. */
  expiresAt: number;
  acl: string[];
  ip?: string;
  sessionId?: string;
  device?: string;
  kid?: string;
}

export interface PlayerTokenKey {
  id: string;
  secret: string;
}

/** Why a token was refused: the reason code of the 403 (contract/errors.ts PLAYER_TOKEN_*). */
export type TokenRefusal = 'missing' | 'malformed' | 'bad-signature' | 'expired' | 'not-yet-valid' | 'acl' | 'ip';

export type VerifyResult =
  | { ok: true; claims: PlayerClaims }
  | { ok: false; reason: TokenRefusal; message: string; kid?: string };

export const MAX_TOKEN_LENGTH = 2048;
const MAX_ACLS = 16;

const field = {
  acl: /^\/[A-Za-z0-9._/*:-]{0,255}$/,
  ip: /^[0-9A-Fa-f.:]{2,45}$/,
  id: /^[A-Za-z0-9._:-]{1,128}$/,
  dev: /^[A-Za-z0-9._-]{1,64}$/,
  kid: /^[A-Za-z0-9._-]{1,32}$/,
  time: /^[0-9]{1,12}$/,
  hmac: /^[0-9a-f]{64}$/,
};

/** One ACL entry: a path starting with `/`, `*` as the only wildcard. */
export const AclEntry = z.string().regex(field.acl, 'an ACL entry is a path starting with "/" ("*" matches anything)');
/** The optional claims a minting request may set (the API and `npm run token -- player`). */
export const PlayerTokenRequest = z
  .object({
    /** Seconds from now (or from `startsAt`) until it expires. */
    ttlSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600)
      .default(3600),
    /** Not valid before this time (seconds since the epoch); default: valid at once. */
    startsAt: z.number().int().nonnegative().max(1e11).optional(),
    /** Default: the event's live paths and its license (`/live/{event}/*`, `/drm/clearkey/{event}`). */
    acl: z.array(AclEntry).min(1).max(MAX_ACLS).optional(),
    ip: z.string().regex(field.ip, 'an IPv4 or IPv6 address').optional(),
    sessionId: z.string().regex(field.id, '1-128 chars of A-Z, a-z, 0-9, ".", "_", ":" and "-"').optional(),
    device: z.string().regex(field.dev, '1-64 chars of A-Z, a-z, 0-9, ".", "_" and "-"').optional(),
  })
  .strict();
export type PlayerTokenRequest = z.infer<typeof PlayerTokenRequest>;

/** What a player of `event` needs: its live paths and its license. */
export const eventAcl = (event: string): string[] => [`/live/${event}/*`, `/drm/clearkey/${event}`];

/** The key id of a signing key: a fingerprint that says which key signed, and nothing about it. */
export async function playerKeyId(secret: string): Promise<string> {
  const hash = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`player-token-kid:${secret}`));
  return `k${toHex(new Uint8Array(hash, 0, 4))}`;
}

export async function signPlayerToken(key: PlayerTokenKey, claims: Omit<PlayerClaims, 'kid'>): Promise<string> {
  const parts: string[] = [];
  if (claims.startsAt !== undefined) parts.push(`st=${claims.startsAt}`);
  parts.push(`exp=${claims.expiresAt}`, `acl=${claims.acl.join('!')}`);
  if (claims.ip !== undefined) parts.push(`ip=${claims.ip}`);
  if (claims.sessionId !== undefined) parts.push(`id=${claims.sessionId}`);
  if (claims.device !== undefined) parts.push(`dev=${claims.device}`);
  parts.push(`kid=${key.id}`);
  const body = parts.join('~');
  // What is signed must read back as these claims: refuse to mint a token the edge would call malformed.
  const parsed = parseToken(`${body}~hmac=${'0'.repeat(64)}`);
  if (!parsed) throw new Error(`player token claims out of their syntax: ${body}`);
  return `${body}~hmac=${toHex(await hmacSha256(key.secret, body))}`;
}

/**
 * Check a token for a request: syntax, key and MAC first (a forged token learns nothing about its
 * claims), then times, path and address. `keys`: the active keys, current first.
 */
export async function verifyPlayerToken(
  token: string | undefined,
  keys: PlayerTokenKey[],
  request: { path: string; nowMs: number; ip?: string },
): Promise<VerifyResult> {
  const signed = await verifyPlayerTokenSignature(token, keys);
  return signed.ok ? checkPlayerClaims(signed.claims, request) : signed;
}

/**
 * The first half of verifyPlayerToken: syntax, key and MAC. What it returns for a token never
 * changes while the keys stay the same, so the edge may remember a token it accepted
 * (edge/player-auth.ts) and run only checkPlayerClaims for it again.
 */
export async function verifyPlayerTokenSignature(
  token: string | undefined,
  keys: PlayerTokenKey[],
): Promise<VerifyResult> {
  if (!token) return { ok: false, reason: 'missing', message: 'no player token (send ?token= or the cookie)' };
  const parsed = parseToken(token);
  if (!parsed) return { ok: false, reason: 'malformed', message: 'the player token does not parse' };
  const { claims, signed, mac } = parsed;
  const candidates = claims.kid === undefined ? keys : keys.filter((k) => k.id === claims.kid);
  if (candidates.length === 0)
    return { ok: false, reason: 'bad-signature', message: `unknown key id ${claims.kid}`, kid: claims.kid };
  let valid = false;
  for (const key of candidates) valid = timingSafeEqual(await hmacSha256(key.secret, signed), mac) || valid;
  if (!valid)
    return { ok: false, reason: 'bad-signature', message: 'the player token signature is wrong', kid: claims.kid };
  return { ok: true, claims };
}

/** The second half of verifyPlayerToken: the claims of a token whose MAC is good, against this request. */
export function checkPlayerClaims(
  claims: PlayerClaims,
  request: { path: string; nowMs: number; ip?: string },
): VerifyResult {
  const now = Math.floor(request.nowMs / 1000);
  if (claims.startsAt !== undefined && now < claims.startsAt)
    return { ok: false, reason: 'not-yet-valid', message: `the player token is valid from ${iso(claims.startsAt)}` };
  if (now >= claims.expiresAt)
    return { ok: false, reason: 'expired', message: `the player token expired at ${iso(claims.expiresAt)}` };
  if (!aclAllows(claims.acl, request.path))
    return { ok: false, reason: 'acl', message: `the player token does not cover ${request.path}` };
  if (claims.ip !== undefined && claims.ip.toLowerCase() !== request.ip?.toLowerCase())
    return { ok: false, reason: 'ip', message: 'the player token is for another client address' };
  return { ok: true, claims };
}

/** Whether one of the ACL entries matches the whole path (`*`: any run of characters). */
export function aclAllows(acl: string[], path: string): boolean {
  return acl.some((pattern) => wildcardMatch(pattern, path));
}

/** Glob with `*` only, linear backtracking (no regular expression built from input). */
function wildcardMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.length && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** The syntax of each signed field's value (`acl`: of each `!`-separated entry). */
const FIELDS: Record<string, RegExp> = {
  st: field.time,
  exp: field.time,
  acl: field.acl,
  ip: field.ip,
  id: field.id,
  dev: field.dev,
  kid: field.kid,
};

function parseToken(token: string): { claims: PlayerClaims; signed: string; mac: Uint8Array } | undefined {
  if (token.length > MAX_TOKEN_LENGTH) return undefined;
  const at = token.lastIndexOf('~hmac=');
  if (at < 0) return undefined;
  const signed = token.slice(0, at);
  const hex = token.slice(at + '~hmac='.length);
  if (!field.hmac.test(hex)) return undefined;
  const values = new Map<string, string>();
  for (const part of signed.split('~')) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq);
    const value = part.slice(eq + 1);
    const rule = Object.hasOwn(FIELDS, name) ? FIELDS[name] : undefined;
    if (eq < 1 || !rule || values.has(name)) return undefined;
    const entries = name === 'acl' ? value.split('!') : [value];
    if (entries.length > MAX_ACLS || !entries.every((e) => rule.test(e))) return undefined;
    values.set(name, value);
  }
  const exp = values.get('exp');
  const acl = values.get('acl');
  if (exp === undefined || acl === undefined) return undefined;
  const claims: PlayerClaims = { expiresAt: Number(exp), acl: acl.split('!') };
  const st = values.get('st');
  if (st !== undefined) claims.startsAt = Number(st);
  for (const [name, key] of [
    ['ip', 'ip'],
    ['id', 'sessionId'],
    ['dev', 'device'],
    ['kid', 'kid'],
  ] as const) {
    const v = values.get(name);
    if (v !== undefined) claims[key] = v;
  }
  return { claims, signed, mac: fromHex(hex) };
}

function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
