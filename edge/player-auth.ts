import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { AppError, type ErrorCode } from '../contract/errors.ts';
import { EVENT_STATE_HEADER, type EventStateSummary, parseEventState } from '../contract/event-state.ts';
import {
  checkPlayerClaims,
  type PlayerClaims,
  type PlayerTokenKey,
  playerKeyId,
  type TokenRefusal,
  type VerifyResult,
  verifyPlayerTokenSignature,
} from '../contract/player-token.ts';
import { rememberedEventState, rememberEventState } from './event-state-memory.ts';
import { errorResponse } from './http-errors.ts';
import { TOKEN_PARAM, withTokenUrls } from './token-urls.ts';

/**
 * The player token check (docs/player-tokens.md), declared per route in edge/routes.ts:
 * - `event`: /live routes. A token is needed when the event says so (`tok=?1` in x-event-state):
 *   checked against the state this isolate remembers before anything is filled from the origin,
 *   and against the state the answer carries before it goes out, so an answer kept in the edge
 *   cache is protected even in an isolate that never saw the event.
 * - `always`: the license endpoint. A key is never public, whatever the event's switch.
 * A valid token's claims are on the context (`c.get('player')`) either way, for what personalises
 * the answer (a device claim). A query token comes back in the manifest's URLs and in a cookie
 * for the event's paths; the cached bytes and the cache key never hold a token.
 */
export type PlayerVars = { player?: PlayerClaims };
type Ctx = Context<{ Bindings: Env; Variables: PlayerVars }>;

export const PLAYER_COOKIE = 'player-token';

const REFUSALS: Record<TokenRefusal, ErrorCode> = {
  missing: 'PLAYER_TOKEN_MISSING',
  malformed: 'PLAYER_TOKEN_MALFORMED',
  'bad-signature': 'PLAYER_TOKEN_BAD_SIGNATURE',
  expired: 'PLAYER_TOKEN_EXPIRED',
  'not-yet-valid': 'PLAYER_TOKEN_NOT_YET_VALID',
  acl: 'PLAYER_TOKEN_ACL',
  ip: 'PLAYER_TOKEN_IP',
};

/**
 * How long this isolate's memory of an event's state (edge/event-state-memory.ts) may refuse a
 * request on its own, before anything is looked up. After that the answer's state decides (and
 * refreshes the memory): an event switched back to open is open here again within this time.
 */
export const REMEMBERED_STATE_TRUST_MS = 5000;

let keyCache: { current?: string; previous?: string; keys: Promise<PlayerTokenKey[]> } | undefined;

/** The active signing keys, current first (`PLAYER_TOKEN_KEY`, then `PLAYER_TOKEN_KEY_PREVIOUS`). */
export function playerKeys(env: Env): Promise<PlayerTokenKey[]> {
  const current = env.PLAYER_TOKEN_KEY;
  const previous = env.PLAYER_TOKEN_KEY_PREVIOUS;
  if (keyCache?.current !== current || keyCache?.previous !== previous) {
    const secrets = [current, previous].filter((s): s is string => !!s);
    keyCache = {
      current,
      previous,
      keys: Promise.all(secrets.map(async (secret) => ({ id: await playerKeyId(secret), secret }))),
    };
  }
  return keyCache.keys;
}

/**
 * Tokens whose MAC this isolate checked, for as long as they live: a player sends the same token
 * with every manifest and segment request, and the MAC (an HMAC-SHA256 over WebCrypto) was the
 * dearest part of the check. Times, ACL and address are still checked per request
 * (checkPlayerClaims). Only accepted tokens are kept, each with the key list it was checked
 * against, so a rotated key set checks every token again; bounded, oldest first out.
 */
const VERIFIED_MAX = 10_000;
const verified = new Map<string, { claims: PlayerClaims; keys: PlayerTokenKey[] }>();

async function verifyToken(
  token: string | undefined,
  env: Env,
  request: { path: string; nowMs: number; ip?: string },
): Promise<VerifyResult> {
  const keys = await playerKeys(env);
  const known = token === undefined ? undefined : verified.get(token);
  if (known && known.keys === keys) {
    const result = checkPlayerClaims(known.claims, request);
    if (!result.ok && result.reason === 'expired') verified.delete(token!);
    return result;
  }
  const signed = await verifyPlayerTokenSignature(token, keys);
  if (!signed.ok) return signed;
  const result = checkPlayerClaims(signed.claims, request);
  if (result.ok || result.reason !== 'expired') {
    verified.set(token!, { claims: signed.claims, keys });
    if (verified.size > VERIFIED_MAX) verified.delete(verified.keys().next().value!);
  }
  return result;
}

/**
 * A cached manifest with a query token in its URLs, as the parts between which the token goes:
 * worked out once per manifest (its ETag names its bytes) and then joined per request, however
 * many players with their own tokens ask for it. Bounded, oldest first out.
 */
const TEMPLATES_MAX = 256;
const SLOT = '\u0000token\u0000';
const templates = new Map<string, string[]>();

async function withTokenTemplate(res: Response, contentType: string, token: string): Promise<string> {
  const etag = res.headers.get('etag');
  const id = etag ? `${contentType}|${etag}` : undefined;
  let parts = id === undefined ? undefined : templates.get(id);
  if (parts) {
    await res.body?.cancel();
  } else {
    const text = new TextDecoder().decode(await res.arrayBuffer());
    parts = withTokenUrls(text, contentType, SLOT).split(SLOT);
    if (id !== undefined) {
      templates.set(id, parts);
      if (templates.size > TEMPLATES_MAX) templates.delete(templates.keys().next().value!);
    }
  }
  return parts.join(token);
}

/**
 * Whether the answer needs a token: the newest of the state the answer carries and the state this
 * isolate remembers decides (the origin's `t` orders them), so neither an old cached answer nor an
 * old memory opens a protected event.
 */
export function tokensRequired(
  answer: EventStateSummary | undefined,
  remembered: EventStateSummary | undefined,
): boolean {
  const newest = !answer ? remembered : !remembered || answer.t >= remembered.t ? answer : remembered;
  return newest?.tokens === true;
}

/** A player answer that goes only to this player: downstream caches may keep it for this browser only. */
export const privateCacheControl = (value: string | null) => value?.replace(/\bpublic\b/, 'private') ?? null;

const isManifest = (contentType: string | null) =>
  !!contentType && /^application\/(dash\+xml|vnd\.apple\.mpegurl)/.test(contentType);

export function playerAuth(mode: 'event' | 'always'): MiddlewareHandler<{ Bindings: Env; Variables: PlayerVars }> {
  return async (c, next) => {
    const event = c.req.param('event') ?? '';
    const fromQuery = c.req.query(TOKEN_PARAM);
    const token = fromQuery ?? getCookie(c, PLAYER_COOKIE);
    const source = fromQuery !== undefined ? 'query' : token !== undefined ? 'cookie' : 'none';
    const path = c.req.path;
    const result = await verifyToken(token, c.env, { path, nowMs: Date.now(), ip: c.req.header('cf-connecting-ip') });
    if (result.ok) c.set('player', result.claims);
    else if (mode === 'always' || knownProtected(event))
      // Known to be protected: refused before anything is looked up or filled from the origin.
      throw refusal(result, { event, path, source });

    await next();

    const res = c.res;
    const header = res.headers.get(EVENT_STATE_HEADER);
    const required = mode === 'always' || tokensRequired(parseEventState(header), rememberedEventState(event)?.state);
    if (!result.ok) {
      if (!required) return;
      // Refused after the answer was found (a cold isolate, or the event just turned protected):
      // the state it carried is remembered, so the next request is refused before any fill.
      rememberEventState(event, header);
      await res.body?.cancel();
      c.res = undefined;
      c.res = errorResponse(refusal(result, { event, path, source }));
      return;
    }
    if (res.status >= 400) return;
    // A token's device claim shapes the manifest even on an open event: that answer is this viewer's too.
    const personal = required || source === 'query' || (result.ok && result.claims.device !== undefined);
    if (!personal) return;
    // The route's own Response: its headers can change in place (copied once, below, only when the body changes).
    const headers = mutableHeaders(res);
    const cacheControl = privateCacheControl(headers.get('cache-control'));
    if (cacheControl) headers.set('cache-control', cacheControl);
    let body: BodyInit | null = res.body;
    if (source === 'query' && isManifest(headers.get('content-type'))) {
      if (res.status === 200) body = await withTokenTemplate(res, headers.get('content-type') ?? '', fromQuery!);
      headers.delete('content-length');
      // The bytes are this token's: the cached page's ETag would let a player with a newer token
      // keep (304) the URLs of its old one.
      headers.delete('etag');
      for (const cookie of tokenCookies(c, event, fromQuery!, result.claims)) headers.append('set-cookie', cookie);
    }
    if (body === res.body && headers === res.headers) return;
    c.res = undefined;
    c.res = new Response(body, { status: res.status, headers });
  };
}

/** The answer's headers if they may change (a Response the route made), else a copy (one from fetch()). */
function mutableHeaders(res: Response): Headers {
  try {
    res.headers.set('x-player-token', 'checked');
    res.headers.delete('x-player-token');
    return res.headers;
  } catch {
    return new Headers(res.headers);
  }
}

function knownProtected(event: string): boolean {
  const remembered = rememberedEventState(event);
  return remembered?.state.tokens === true && Date.now() - remembered.seenAt < REMEMBERED_STATE_TRUST_MS;
}

/**
 * The token as an HttpOnly cookie for the event's live paths and its license: what lets a player
 * that never adds the query to its requests (a native player, or the URLs it builds itself) go on.
 */
function tokenCookies(c: Ctx, event: string, token: string, claims: PlayerClaims): string[] {
  const maxAge = Math.max(0, claims.expiresAt - Math.floor(Date.now() / 1000));
  const secure = c.req.url.startsWith('https:') ? '; Secure' : '';
  return [`/live/${event}/`, `/drm/clearkey/${event}`].map(
    (path) => `${PLAYER_COOKIE}=${token}; Path=${path}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure}`,
  );
}

/** The 403 of a refused token, logged once (never the token itself). */
function refusal(
  result: Extract<VerifyResult, { ok: false }>,
  where: { event: string; path: string; source: string },
): AppError {
  console.log(
    JSON.stringify({
      msg: 'player token refused',
      reason: result.reason,
      event: where.event,
      path: where.path,
      source: where.source,
      ...(result.kid ? { kid: result.kid } : {}),
    }),
  );
  return new AppError(REFUSALS[result.reason], result.message, {}, { reason: result.reason });
}
