/**
 * Walks the route table (edge/routes.ts) against the real Worker in workerd: every route that is
 * not public refuses a request without its credential (401 with a challenge), with a wrong one
 * (403), and with a credential of another kind (403), and lets its own credential through.
 */
import { describe, expect, inject, it } from 'vitest';
import {
  DEV_OPERATOR_READ_TOKEN,
  DEV_OPERATOR_TOKEN,
  devToken,
  ingestPut,
  randomEventId,
} from '../test/ingest-client.ts';
import { loadMedia } from '../test/media.ts';
import type { BearerCredential, Credential } from './credentials.ts';
import { type Route, routes } from './routes.ts';

const url = inject('workerUrl');
const event = randomEventId('walk');

/** A concrete path for a route pattern. */
function pathOf(route: Route): string {
  return route.path
    .replace('/ingest/*', `/ingest/${event}/A/v1/init.mp4`)
    .replace(':event', event)
    .replace(':track', 'v1')
    .replace(':id', '1')
    .replace(/:file\{[^}]*\\\.(\w+)\}/, '5.$1');
}

const send = (route: Route, authorization?: string) =>
  fetch(`${url}${pathOf(route)}`, {
    method: route.method,
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}',
  });

/** Tokens of every kind, for trying each route with the wrong one. */
async function tokens(): Promise<Record<BearerCredential, string>> {
  return {
    ingest: await devToken('ingest', event, 'A'),
    captions: await devToken('captions', event),
    'operator:read': DEV_OPERATOR_READ_TOKEN,
    'operator:write': DEV_OPERATOR_TOKEN,
  };
}

/** Which presented credential satisfies which required one. */
const satisfies = (given: string, needed: Credential) =>
  given === needed || (needed === 'operator:read' && given === 'operator:write');

/** Routes behind a bearer token; player routes take signed player tokens (player-tokens.worker.test.ts). */
const guarded = routes.filter((r) => r.credential !== 'public' && !r.credential.startsWith('player'));

describe('every route declares its credential (edge/routes.ts)', () => {
  it('the table guards ingest, captions and every operator route', () => {
    expect(guarded.length).toBeGreaterThanOrEqual(13);
    for (const r of routes.filter((r) => r.path.startsWith('/api/'))) expect(r.credential, r.path).not.toBe('public');
    for (const r of routes.filter((r) => r.method === 'PUT' && r.path.startsWith('/ingest/')))
      expect(r.credential).toBe('ingest');
    // Keys are never public: the license endpoint takes a player token whatever the event says.
    for (const r of routes.filter((r) => r.path.startsWith('/drm/'))) expect(r.credential).toBe('player:required');
    for (const r of routes.filter((r) => r.path.startsWith('/live/'))) expect(r.credential).toBe('player');
  });

  it.each(guarded.map((r) => [`${r.method} ${r.path} (${r.credential})`, r] as const))(
    '%s: 401 without, 403 wrong or of another kind, through with its own',
    async (_name, route) => {
      const none = await send(route);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
      expect((await send(route, 'Bearer not-a-token')).status).toBe(403);
      expect((await send(route, 'Basic ZGV2OmRldg==')).status).toBe(401);
      for (const [kind, token] of Object.entries(await tokens())) {
        const res = await send(route, `Bearer ${token}`);
        if (satisfies(kind, route.credential)) expect([401, 403], `${kind} must pass`).not.toContain(res.status);
        else expect(res.status, `${kind} must be refused`).toBe(403);
      }
    },
  );

  it('an operator candidate fetch on a player path needs an operator token', async () => {
    const candidate = `${url}/live/${event}/v1/5.m4s?pipeline=A`;
    expect((await fetch(candidate)).status).toBe(401);
    const ingest = await devToken('ingest', event, 'A');
    expect((await fetch(candidate, { headers: { authorization: `Bearer ${ingest}` } })).status).toBe(403);
    const read = await fetch(candidate, { headers: { authorization: `Bearer ${DEV_OPERATOR_READ_TOKEN}` } });
    expect([401, 403]).not.toContain(read.status);
  });
});

describe('scoped contribution tokens', () => {
  it('an ingest token publishes only into its own event and pipeline', async () => {
    const video = await loadMedia({ kind: 'video' });
    const own = randomEventId();
    const other = randomEventId();
    const tokenA = await devToken('ingest', own, 'A');
    expect((await ingestPut(url, `${own}/A/v1/init.mp4`, video.init, { token: tokenA })).status).toBe(201);
    expect((await ingestPut(url, `${own}/B/v1/init.mp4`, video.init, { token: tokenA })).status).toBe(403);
    expect((await ingestPut(url, `${other}/A/v1/init.mp4`, video.init, { token: tokenA, create: false })).status).toBe(
      403,
    );
    const anyPipeline = await devToken('ingest', own);
    expect((await ingestPut(url, `${own}/B/v1/init.mp4`, video.init, { token: anyPipeline })).status).toBe(201);
    const captions = await devToken('captions', own);
    expect((await ingestPut(url, `${own}/A/v2/init.mp4`, video.init, { token: captions })).status).toBe(403);
    // Nothing was created for the refused event.
    const state = await fetch(`${url}/live/${other}/index.mpd`);
    expect(state.status).toBe(404);
  });

  it('the operator mints tokens; the read-only operator cannot', async () => {
    const own = randomEventId();
    const mint = (token: string, body: unknown) =>
      fetch(`${url}/api/events/${own}/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const res = await mint(DEV_OPERATOR_TOKEN, { scope: 'ingest', pipeline: 'B' });
    expect(res.status).toBe(201);
    const { token } = (await res.json()) as { token: string };
    const video = await loadMedia({ kind: 'video' });
    expect((await ingestPut(url, `${own}/B/v1/init.mp4`, video.init, { token })).status).toBe(201);
    expect((await ingestPut(url, `${own}/A/v1/init.mp4`, video.init, { token })).status).toBe(403);
    expect((await mint(DEV_OPERATOR_READ_TOKEN, { scope: 'ingest' })).status).toBe(403);
    expect((await mint(DEV_OPERATOR_TOKEN, { scope: 'captions', pipeline: 'A' })).status).toBe(400);
    expect((await mint(DEV_OPERATOR_TOKEN, { scope: 'everything' })).status).toBe(400);
  });

  it('a token signed with another key, or edited, is refused', async () => {
    const own = randomEventId();
    const video = await loadMedia({ kind: 'video' });
    const real = await devToken('ingest', own, 'A');
    const [prefix, , mac] = real.split('.');
    const forgedClaims = btoa(JSON.stringify({ scope: 'ingest', event: own })).replace(/=+$/, '');
    for (const token of [`${prefix}.${forgedClaims}.${mac}`, `${real}x`, real.slice(0, -2)]) {
      expect((await ingestPut(url, `${own}/A/v1/init.mp4`, video.init, { token })).status).toBe(403);
    }
  });
});
