/**
 * The Control Room's login (edge/control-session.ts) against the real Worker in workerd: an
 * operator token buys a signed HttpOnly session cookie; the cookie then passes operator routes
 * (a write session with the CSRF header only), and a tampered, expired or cleared one passes none.
 */
import { describe, expect, inject, it } from 'vitest';
import { DEV_OPERATOR_READ_TOKEN, DEV_OPERATOR_TOKEN, randomEventId } from '../test/ingest-client.ts';
import { SESSION_COOKIE, signSession } from './control-session.ts';

const url = inject('workerUrl');

const login = (token: unknown, contentType = 'application/json') =>
  fetch(`${url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: JSON.stringify({ token }),
  });

/** The cookie's `name=value` and its attributes from a login answer. */
function cookieOf(res: Response): { pair: string; attributes: string } {
  const header = res.headers.get('set-cookie') ?? '';
  const [pair, ...rest] = header.split(';');
  return { pair: pair.trim(), attributes: rest.join(';') };
}

async function sessionFor(token: string): Promise<string> {
  const res = await login(token);
  expect(res.status).toBe(204);
  return cookieOf(res).pair;
}

const withCookie = (cookie: string, path: string, init: RequestInit = {}) =>
  fetch(`${url}${path}`, { ...init, headers: { cookie, ...(init.headers as Record<string, string>) } });

const createEvent = (cookie: string, id: string, headers: Record<string, string> = {}) =>
  withCookie(cookie, '/api/events', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ id, title: 'session test' }),
  });

const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

describe('POST /api/session', () => {
  it('the operator token buys a write session: HttpOnly, SameSite=Strict, Path=/, 12 h', async () => {
    const res = await login(DEV_OPERATOR_TOKEN);
    expect(res.status).toBe(204);
    expect(res.headers.get('x-control-role')).toBe('write');
    const { pair, attributes } = cookieOf(res);
    expect(pair.startsWith(`${SESSION_COOKIE}=`)).toBe(true);
    // The token itself is nowhere in the cookie.
    expect(pair).not.toContain(DEV_OPERATOR_TOKEN);
    expect(attributes).toContain('HttpOnly');
    expect(attributes).toContain('SameSite=Strict');
    expect(attributes).toContain('Path=/');
    expect(attributes).toContain('Max-Age=43200');
    // http://worker.test is plain http on no local host: Secure (only http://localhost goes without).
    expect(attributes).toContain('Secure');
    const who = await withCookie(pair, '/api/session');
    expect(await who.json()).toEqual({ role: 'write' });
  });

  it('the read-only token buys a read session', async () => {
    const res = await login(DEV_OPERATOR_READ_TOKEN);
    expect(res.status).toBe(204);
    expect(res.headers.get('x-control-role')).toBe('read');
    expect(await (await withCookie(cookieOf(res).pair, '/api/session')).json()).toEqual({ role: 'read' });
  });

  it('a wrong token, another kind of token or a bad body buys nothing', async () => {
    for (const token of ['nope', 'dev-ingest-token-key', 'dev-player-token-key']) {
      const res = await login(token);
      expect(res.status, token).toBe(403);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    expect((await login(42)).status).toBe(400);
    expect((await login('')).status).toBe(400);
    expect((await login(DEV_OPERATOR_TOKEN, 'text/plain')).status).toBe(415);
  });
});

describe('the session cookie as an operator credential', () => {
  it('passes read routes, for a read and for a write session', async () => {
    for (const token of [DEV_OPERATOR_READ_TOKEN, DEV_OPERATOR_TOKEN]) {
      const cookie = await sessionFor(token);
      const res = await withCookie(cookie, '/api/events');
      expect(res.status, token).toBe(200);
      expect(Array.isArray(((await res.json()) as { events: unknown[] }).events)).toBe(true);
      expect((await withCookie(cookie, '/api/ttl/rules')).status).toBe(200);
    }
    // Without any credential the same route is still a 401.
    expect((await fetch(`${url}/api/events`)).status).toBe(401);
  });

  it('a write session with x-control-room: 1 changes things; without the header it is refused', async () => {
    const cookie = await sessionFor(DEV_OPERATOR_TOKEN);
    const refused = await createEvent(cookie, randomEventId('sess'));
    expect(refused.status).toBe(403);
    expect(await errorCode(refused)).toBe('FORBIDDEN');
    const wrongValue = await createEvent(cookie, randomEventId('sess'), { 'x-control-room': 'yes' });
    expect(wrongValue.status).toBe(403);
    const id = randomEventId('sess');
    const created = await createEvent(cookie, id, { 'x-control-room': '1' });
    expect(created.status).toBe(201);
    const op = await withCookie(cookie, `/api/events/${id}/operations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-control-room': '1' },
      body: JSON.stringify({ op: 'set-dvr-window', dvrWindowSeconds: 600 }),
    });
    expect(op.status).toBe(200);
    const timeline = (await (await withCookie(cookie, `/api/events/${id}/timeline`)).json()) as {
      entries: { what: string; who: string }[];
    };
    expect(timeline.entries.map((e) => e.what)).toContain('set-dvr-window');
  });

  it('a read session is refused on writes, with or without the CSRF header', async () => {
    const cookie = await sessionFor(DEV_OPERATOR_READ_TOKEN);
    for (const headers of [{}, { 'x-control-room': '1' }] as Record<string, string>[]) {
      const res = await createEvent(cookie, randomEventId('sess'), headers);
      expect(res.status).toBe(403);
      expect(await errorCode(res)).toBe('FORBIDDEN');
    }
  });

  it('a tampered, forged or expired cookie is refused', async () => {
    const cookie = await sessionFor(DEV_OPERATOR_READ_TOKEN);
    const [name, value] = cookie.split('=');
    const [body, mac] = value.split('.');
    // Claim write with the read session's signature.
    const claims = JSON.parse(atob(body.replace(/-/g, '+').replace(/_/g, '/'))) as { role: string; exp: number };
    const promoted = btoa(JSON.stringify({ ...claims, role: 'write' })).replace(/=+$/, '');
    const env = { OPERATOR_TOKEN: 'not-this-deployments-token' } as Env;
    const expired = await signSession({ OPERATOR_TOKEN: DEV_OPERATOR_TOKEN } as Env, {
      role: 'write',
      exp: Math.floor(Date.now() / 1000) - 1,
    });
    const bad = [
      `${name}=${promoted}.${mac}`,
      `${name}=${body}.${mac.slice(0, -2)}AA`,
      `${name}=${body}`,
      `${name}=garbage`,
      `${name}=${await signSession(env, { role: 'write', exp: claims.exp })}`,
      `${name}=${expired}`,
    ];
    for (const c of bad) {
      const res = await withCookie(c, '/api/events');
      expect(res.status, c).toBe(401);
      expect((await createEvent(c, randomEventId('sess'), { 'x-control-room': '1' })).status, c).toBe(401);
      expect((await withCookie(c, '/api/session')).status, c).toBe(401);
    }
  });

  it('a bearer token wins over the cookie: a wrong bearer with a good cookie is still refused', async () => {
    const cookie = await sessionFor(DEV_OPERATOR_TOKEN);
    const res = await withCookie(cookie, '/api/events', { headers: { authorization: 'Bearer nope' } });
    expect(res.status).toBe(403);
  });
});

describe('DELETE /api/session', () => {
  it('clears the cookie: Max-Age=0 and an empty value', async () => {
    const cookie = await sessionFor(DEV_OPERATOR_TOKEN);
    const res = await withCookie(cookie, '/api/session', { method: 'DELETE' });
    expect(res.status).toBe(204);
    const { pair, attributes } = cookieOf(res);
    expect(pair).toBe(`${SESSION_COOKIE}=`);
    expect(attributes).toContain('Max-Age=0');
    // What the browser keeps after that: no cookie, so no access.
    expect((await fetch(`${url}/api/events`)).status).toBe(401);
    expect((await withCookie(`${SESSION_COOKIE}=`, '/api/events')).status).toBe(401);
  });
});
