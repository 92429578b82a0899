import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { AppError } from '../contract/errors.ts';
import { type TokenClaims, verifyToken } from '../contract/scoped-token.ts';
import { constantTimeEqual } from './bearer-auth.ts';
import { CSRF_HEADER, SESSION_COOKIE, sessionRole } from './control-session.ts';
import { type PlayerVars, playerAuth } from './player-auth.ts';

/**
 * What a route needs from its caller (declared once per route in edge/routes.ts):
 * - `public`: nothing.
 * - `player`: a signed player token (edge/player-auth.ts) when the path's event requires one
 *   (its `playerTokens` switch, seen in x-event-state); anyone otherwise: the /live routes.
 * - `player:required`: a valid player token for the path, whatever the event's switch: licenses.
 * - `ingest`: a scoped token (contract/scoped-token.ts) with scope `ingest` for the path's event,
 *   and for its pipeline when the token names one: the bridge's PUTs.
 * - `captions`: a scoped token with scope `captions` for the path's event: a live captioner.
 * - `operator:read`: `OPERATOR_READ_TOKEN` or `OPERATOR_TOKEN`: views that change nothing.
 * - `operator:write`: `OPERATOR_TOKEN` only: every control.
 * Both operator credentials also take the Control Room's session cookie (edge/control-session.ts)
 * when no Authorization header is sent: a read session for views, a write session for controls,
 * and then only with `x-control-room: 1` (CSRF guard).
 * No credential is a 401 with a `www-authenticate` challenge; a wrong or out-of-scope one is a 403.
 */
export type Credential =
  | 'public'
  | 'player'
  | 'player:required'
  | 'ingest'
  | 'captions'
  | 'operator:read'
  | 'operator:write';

/** Credentials carried in an `Authorization: Bearer` header (the others are public or player tokens). */
export type BearerCredential = Exclude<Credential, 'public' | 'player' | 'player:required'>;

export type CredentialVars = { claims?: TokenClaims } & PlayerVars;
type Ctx = Context<{ Bindings: Env; Variables: CredentialVars }>;

export function requireCredential(credential: Credential): MiddlewareHandler<{
  Bindings: Env;
  Variables: CredentialVars;
}> {
  if (credential === 'player') {
    const player = playerAuth('event');
    return async (c, next) => {
      // An operator candidate fetch (`?pipeline=`, `?region=`) on a player path takes the operator
      // token instead, on every player path (one that ignores the parameters included).
      if (c.req.query('pipeline') === undefined && c.req.query('region') === undefined) return player(c, next);
      await check(c, 'operator:read');
      await next();
    };
  }
  if (credential === 'player:required') return playerAuth('always');
  return async (c, next) => {
    if (credential !== 'public') await check(c, credential);
    await next();
  };
}

/** For a route whose credential depends on the request (an operator candidate fetch on a player path). */
export async function check(c: Ctx, credential: BearerCredential): Promise<void> {
  const realm = credential.startsWith('operator') ? 'operator' : credential;
  const operator = credential === 'operator:read' || credential === 'operator:write';
  // The Control Room's session cookie (edge/control-session.ts) stands in for an operator token
  // when no Authorization header is sent.
  if (operator && c.req.header('authorization') === undefined && getCookie(c, SESSION_COOKIE) !== undefined) {
    const role = await sessionRole(c);
    if (!role) throw new AppError('UNAUTHORIZED', 'the Control Room session has expired or is not valid: log in again');
    if (credential === 'operator:read') return;
    if (role !== 'write') throw new AppError('FORBIDDEN', 'a read-only Control Room session cannot change anything');
    if (c.req.header(CSRF_HEADER) !== '1')
      throw new AppError('FORBIDDEN', `a change made with the Control Room session must send ${CSRF_HEADER}: 1`);
    return;
  }
  const token = bearerOf(c.req.header('authorization'), realm);
  if (operator) {
    if (await constantTimeEqual(token, c.env.OPERATOR_TOKEN ?? '')) return;
    const readOnly = c.env.OPERATOR_READ_TOKEN ? await constantTimeEqual(token, c.env.OPERATOR_READ_TOKEN) : false;
    if (readOnly && credential === 'operator:read') return;
    throw new AppError(
      'FORBIDDEN',
      readOnly ? 'the read-only operator token cannot change anything' : 'the bearer token is not valid for this route',
    );
  }
  const claims = await verifyToken(c.env.INGEST_TOKEN_KEY ?? '', token);
  if (!claims || claims.scope !== credential) {
    throw new AppError('FORBIDDEN', `the bearer token is not a valid ${credential} token of this deployment`);
  }
  c.set('claims', claims);
}

/** After the path is parsed: the scoped token must be for this event (and pipeline, when it names one). */
export function requireTokenFor(c: Ctx, event: string, pipeline?: string): void {
  const claims = c.get('claims');
  if (!claims) throw new AppError('INTERNAL', 'route has no scoped-token credential');
  if (claims.event !== event) {
    throw new AppError('FORBIDDEN', `the ${claims.scope} token is for event ${claims.event}, not ${event}`);
  }
  if (pipeline !== undefined && claims.pipeline !== undefined && claims.pipeline !== pipeline) {
    throw new AppError('FORBIDDEN', `the ingest token is for pipeline ${claims.pipeline}, not ${pipeline}`);
  }
}

/** The token of an `Authorization: Bearer <token>` header; undefined without one (or a malformed one). */
export function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer ([\x21-\x7e]+)$/.exec(authorization?.trim() ?? '')?.[1];
}

function bearerOf(authorization: string | undefined, realm: string): string {
  const token = bearerToken(authorization);
  if (token === undefined) {
    throw new AppError('UNAUTHORIZED', 'send Authorization: Bearer <token>', {
      'www-authenticate': `Bearer realm="${realm}"`,
    });
  }
  return token;
}
