import { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { z } from 'zod';
import { AppError } from '../contract/errors.ts';
import { hmacSha256, timingSafeEqual } from '../contract/hmac.ts';
import { constantTimeEqual } from './bearer-auth.ts';
import { readJson } from './json-body.ts';
import type { AppEnv, Ctx } from './route-handler.ts';

/**
 * The Control Room's session (docs/control-plane.md, "Control Room"): the operator types a token
 * once into the page's login form; `POST /api/session` answers with an HttpOnly, SameSite=Strict
 * cookie holding a signed `{role, exp}` and the token never appears in a URL, in storage the page
 * can read, or in any later request. edge/credentials.ts accepts the cookie wherever an operator
 * token is accepted; a write made with the cookie must also carry `x-control-room: 1` (a header a
 * cross-site form cannot send) — SameSite=Strict already keeps other sites' requests cookieless;
 * the header is the second lock.
 *
 * The signing key is derived from OPERATOR_TOKEN, so rotating the operator token ends every
 * session, and the read-only token, which anyone on a monitoring screen may hold, cannot mint one.
 */
export const SESSION_COOKIE = 'control-session';
export const SESSION_SECONDS = 12 * 3600;
/** The header a cookie-authenticated write must carry. */
export const CSRF_HEADER = 'x-control-room';

export type SessionRole = 'read' | 'write';
interface SessionClaims {
  role: SessionRole;
  /** Seconds since the epoch. */
  exp: number;
}

const LoginRequest = z.object({ token: z.string().min(1).max(512) }).strict();

const encoder = new TextEncoder();
const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
function fromB64url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  } catch {
    return undefined;
  }
}

const keyOf = (env: Env) => `control-session\n${env.OPERATOR_TOKEN ?? ''}`;

/** `base64url(JSON claims).base64url(HMAC-SHA256)`. */
export async function signSession(env: Env, claims: SessionClaims): Promise<string> {
  const body = b64url(encoder.encode(JSON.stringify(claims)));
  return `${body}.${b64url(await hmacSha256(keyOf(env), body))}`;
}

/** The claims of a cookie value, or undefined when its signature, shape or expiry is wrong. */
export async function verifySession(env: Env, value: string, now = Date.now()): Promise<SessionClaims | undefined> {
  if (!env.OPERATOR_TOKEN) return undefined;
  const [body, mac, extra] = value.split('.');
  if (!body || !mac || extra !== undefined) return undefined;
  const given = fromB64url(mac);
  if (!given || !timingSafeEqual(given, await hmacSha256(keyOf(env), body))) return undefined;
  const json = fromB64url(body);
  if (!json) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder().decode(json));
  } catch {
    return undefined;
  }
  const parsed = z.object({ role: z.enum(['read', 'write']), exp: z.number() }).safeParse(claims);
  if (!parsed.success || parsed.data.exp * 1000 <= now) return undefined;
  return parsed.data;
}

/** The session cookie's role when the request carries a valid one. */
export async function sessionRole(c: Ctx): Promise<SessionRole | undefined> {
  const value = getCookie(c, SESSION_COOKIE);
  return value ? (await verifySession(c.env, value))?.role : undefined;
}

/** No `Secure` only for plain http on this machine (wrangler dev); everywhere else https only. */
function cookieAttributes(c: Ctx, maxAge: number): string {
  const url = new URL(c.req.url);
  const local = url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  return `HttpOnly;${local ? '' : ' Secure;'} SameSite=Strict; Path=/; Max-Age=${maxAge}`;
}

/** `POST /api/session` {token} → 204 + cookie; `DELETE /api/session` → 204, cookie cleared. */
export const sessionApi = new Hono<AppEnv>();

sessionApi.post('/api/session', async (c) => {
  const { token } = await readJson(c.req.raw, LoginRequest);
  const write = c.env.OPERATOR_TOKEN ? await constantTimeEqual(token, c.env.OPERATOR_TOKEN) : false;
  const read = !write && c.env.OPERATOR_READ_TOKEN ? await constantTimeEqual(token, c.env.OPERATOR_READ_TOKEN) : false;
  if (!write && !read) throw new AppError('FORBIDDEN', 'not an operator token of this deployment');
  const role: SessionRole = write ? 'write' : 'read';
  const value = await signSession(c.env, { role, exp: Math.floor(Date.now() / 1000) + SESSION_SECONDS });
  return c.body(null, 204, {
    'set-cookie': `${SESSION_COOKIE}=${value}; ${cookieAttributes(c, SESSION_SECONDS)}`,
    'cache-control': 'no-store',
    'x-control-role': role,
  });
});

/** Who the page is logged in as (the page cannot read its HttpOnly cookie): 200 {role} or 401. */
sessionApi.get('/api/session', async (c) => {
  const role = await sessionRole(c);
  if (!role) throw new AppError('UNAUTHORIZED', 'no Control Room session: log in with POST /api/session');
  return c.json({ role }, 200, { 'cache-control': 'no-store' });
});

sessionApi.delete('/api/session', (c) =>
  c.body(null, 204, {
    'set-cookie': `${SESSION_COOKIE}=; ${cookieAttributes(c, 0)}`,
    'cache-control': 'no-store',
  }),
);
