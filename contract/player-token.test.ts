import { describe, expect, it } from 'vitest';
import {
  aclAllows,
  eventAcl,
  type PlayerClaims,
  type PlayerTokenKey,
  playerKeyId,
  signPlayerToken,
  type TokenRefusal,
  verifyPlayerToken,
} from './player-token.ts';

const NOW = 1_770_000_000_000;
const now = NOW / 1000;
const current: PlayerTokenKey = { id: await playerKeyId('current-secret'), secret: 'current-secret' };
const previous: PlayerTokenKey = { id: await playerKeyId('previous-secret'), secret: 'previous-secret' };
const retired: PlayerTokenKey = { id: await playerKeyId('retired-secret'), secret: 'retired-secret' };
const active = [current, previous];

const base: Omit<PlayerClaims, 'kid'> = { expiresAt: now + 3600, acl: eventAcl('demo') };
const SEGMENT = '/live/demo/v1/885000001.m4s';

const tamper = (token: string, from: string, to: string) => token.replace(from, to);

interface Case {
  name: string;
  token: () => Promise<string | undefined>;
  path?: string;
  ip?: string;
  /** undefined: accepted. */
  refused?: TokenRefusal;
}

const cases: Case[] = [
  { name: 'valid', token: () => signPlayerToken(current, base) },
  { name: 'valid, license path', token: () => signPlayerToken(current, base), path: '/drm/clearkey/demo' },
  { name: 'valid, manifest', token: () => signPlayerToken(current, base), path: '/live/demo/index.mpd' },
  { name: 'valid, started a minute ago', token: () => signPlayerToken(current, { ...base, startsAt: now - 60 }) },
  { name: 'expired', token: () => signPlayerToken(current, { ...base, expiresAt: now - 1 }), refused: 'expired' },
  {
    name: 'expires this second',
    token: () => signPlayerToken(current, { ...base, expiresAt: now }),
    refused: 'expired',
  },
  {
    name: 'not yet valid',
    token: () => signPlayerToken(current, { ...base, startsAt: now + 60 }),
    refused: 'not-yet-valid',
  },
  {
    name: 'tampered expiry',
    token: async () => tamper(await signPlayerToken(current, base), `exp=${now + 3600}`, `exp=${now + 99_999}`),
    refused: 'bad-signature',
  },
  {
    name: 'tampered ACL (widened to every event)',
    token: async () => tamper(await signPlayerToken(current, base), 'acl=/live/demo/*', 'acl=/live/*'),
    refused: 'bad-signature',
  },
  {
    name: 'tampered MAC',
    token: async () => {
      const t = await signPlayerToken(current, base);
      return t.slice(0, -1) + (t.endsWith('0') ? '1' : '0');
    },
    refused: 'bad-signature',
  },
  {
    name: 'wrong path: another event',
    token: () => signPlayerToken(current, base),
    path: '/live/other/index.mpd',
    refused: 'acl',
  },
  {
    name: 'wrong path: event id that only starts the same',
    token: () => signPlayerToken(current, base),
    path: '/live/demo2/index.mpd',
    refused: 'acl',
  },
  {
    name: 'wrong path: ACL of one track',
    token: () => signPlayerToken(current, { ...base, acl: ['/live/demo/a1/*'] }),
    refused: 'acl',
  },
  {
    name: 'ACL wildcard in the middle',
    token: () => signPlayerToken(current, { ...base, acl: ['/live/demo/*/88500000*.m4s'] }),
  },
  {
    name: 'second of several ACLs',
    token: () => signPlayerToken(current, { ...base, acl: ['/live/other/*', '/live/demo/v1/*'] }),
  },
  {
    name: 'IP bound, same IP',
    token: () => signPlayerToken(current, { ...base, ip: '203.0.113.7' }),
    ip: '203.0.113.7',
  },
  {
    name: 'IP bound, other IP',
    token: () => signPlayerToken(current, { ...base, ip: '203.0.113.7' }),
    ip: '198.51.100.1',
    refused: 'ip',
  },
  {
    name: 'IP bound, no client address known',
    token: () => signPlayerToken(current, { ...base, ip: '2001:db8::1' }),
    refused: 'ip',
  },
  { name: 'rotated: signed with the previous key', token: () => signPlayerToken(previous, base) },
  {
    name: 'rotated out: a key no longer active',
    token: () => signPlayerToken(retired, base),
    refused: 'bad-signature',
  },
  {
    name: 'unknown kid',
    token: async () => tamper(await signPlayerToken(current, base), `kid=${current.id}`, 'kid=k00000000'),
    refused: 'bad-signature',
  },
  {
    name: 'previous key claiming the current kid',
    token: async () => tamper(await signPlayerToken(previous, base), `kid=${previous.id}`, `kid=${current.id}`),
    refused: 'bad-signature',
  },
  { name: 'missing', token: async () => undefined, refused: 'missing' },
  { name: 'malformed: garbage', token: async () => 'not-a-token', refused: 'malformed' },
  {
    name: 'malformed: no exp',
    token: async () => `acl=/live/demo/*~hmac=${'0'.repeat(64)}`,
    refused: 'malformed',
  },
  {
    name: 'malformed: unknown field',
    token: async () => tamper(await signPlayerToken(current, base), '~kid=', '~foo=1~kid='),
    refused: 'malformed',
  },
  {
    name: 'malformed: field twice',
    token: async () => tamper(await signPlayerToken(current, base), '~kid=', `~exp=${now + 9}~kid=`),
    refused: 'malformed',
  },
  {
    name: 'malformed: uppercase MAC',
    token: async () =>
      (await signPlayerToken(current, base)).replace(/hmac=(.*)$/, (_, h) => `hmac=${h.toUpperCase()}`),
    refused: 'malformed',
  },
  {
    name: 'malformed: too long',
    token: async () => `exp=1~acl=/${'a'.repeat(3000)}~hmac=${'0'.repeat(64)}`,
    refused: 'malformed',
  },
];

describe('verifyPlayerToken', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const token = await c.token();
    const result = await verifyPlayerToken(token, active, { path: c.path ?? SEGMENT, nowMs: NOW, ip: c.ip });
    if (c.refused === undefined) expect(result).toMatchObject({ ok: true });
    else expect(result).toMatchObject({ ok: false, reason: c.refused });
  });

  it('reads back every claim it signed', async () => {
    const claims = {
      startsAt: now - 5,
      expiresAt: now + 60,
      acl: ['/live/demo/*'],
      ip: '203.0.113.7',
      sessionId: 'session-1',
      device: 'tv-hevc',
    };
    const token = await signPlayerToken(current, claims);
    expect(token).toMatch(
      /^st=\d+~exp=\d+~acl=\/live\/demo\/\*~ip=203\.0\.113\.7~id=session-1~dev=tv-hevc~kid=k[0-9a-f]{8}~hmac=[0-9a-f]{64}$/,
    );
    const result = await verifyPlayerToken(token, active, { path: SEGMENT, nowMs: NOW, ip: '203.0.113.7' });
    expect(result).toEqual({ ok: true, claims: { ...claims, kid: current.id } });
  });

  it('accepts a token without kid signed by any active key (tokens minted by other CDN tools)', async () => {
    const token = (await signPlayerToken(previous, base)).replace(`~kid=${previous.id}`, '');
    // The MAC covers the kid: take it out before signing, as such a tool would.
    const { createHmac } = await import('node:crypto');
    const body = token.slice(0, token.indexOf('~hmac='));
    const resigned = `${body}~hmac=${createHmac('sha256', previous.secret).update(body).digest('hex')}`;
    expect(await verifyPlayerToken(resigned, active, { path: SEGMENT, nowMs: NOW })).toMatchObject({ ok: true });
    expect(await verifyPlayerToken(resigned, [current], { path: SEGMENT, nowMs: NOW })).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('refuses to mint claims outside their syntax', async () => {
    await expect(signPlayerToken(current, { ...base, acl: ['/live/demo/*~exp=9'] })).rejects.toThrow(/syntax/);
    await expect(signPlayerToken(current, { ...base, sessionId: 'a b' })).rejects.toThrow(/syntax/);
  });

  it('key ids are stable fingerprints, different per key', async () => {
    expect(await playerKeyId('current-secret')).toBe(current.id);
    expect(current.id).not.toBe(previous.id);
  });
});

describe('aclAllows', () => {
  it.each([
    ['/live/demo/*', '/live/demo/index.mpd', true],
    ['/live/demo/*', '/live/demo/', true],
    ['/live/demo/*', '/live/demo', false],
    ['/live/*/index.mpd', '/live/demo/index.mpd', true],
    ['/live/*/index.mpd', '/live/demo/v1/index.m3u8', false],
    ['/drm/clearkey/demo', '/drm/clearkey/demo', true],
    ['/drm/clearkey/demo', '/drm/clearkey/demo2', false],
    ['*', '/anything', true],
    ['/a*b*c', '/aXXbYYc', true],
    ['/a*b*c', '/aXXbYY', false],
  ])('%s vs %s: %s', (pattern, path, expected) => {
    expect(aclAllows([pattern], path)).toBe(expected);
  });

  it('stays fast on a pathological pattern', () => {
    const start = performance.now();
    expect(aclAllows([`/${'*a'.repeat(100)}b`], `/${'a'.repeat(255)}`)).toBe(false);
    expect(performance.now() - start).toBeLessThan(100);
  });
});
