/** The TTL rules API against the real Worker (KV and all) in workerd. */
import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { DEV_OPERATOR_READ_TOKEN, DEV_OPERATOR_TOKEN } from '../test/ingest-client.ts';

const url = inject('workerUrl');

const api = (method: string, path: string, body?: unknown, token = DEV_OPERATOR_TOKEN) =>
  fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

const explain = async (target: string, status?: string) => {
  const query = new URLSearchParams({ url: target, ...(status ? { status } : {}) });
  const res = await api('GET', `/api/ttl/explain?${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as {
    subject: { type: string };
    rule: { id: string } | null;
    ttlMs: number;
    cacheControl: string;
    defaults: { ttlMs: number; cacheControl: string };
  };
};

const RULES = {
  rules: [
    { id: 'live-segments', match: { type: ['segment'], event: 'big-*', track: 'v?' }, ttlMs: 7_500 },
    { id: 'manifests', match: { type: ['mpd', 'media-playlist'] }, ttlMs: 1_250, staleWhileRevalidateMs: 2_000 },
    { id: 'gone', match: { type: ['410'], path: '/live/big-*' }, ttlMs: 120_000 },
  ],
};

beforeEach(async () => {
  expect((await api('PUT', '/api/ttl/rules', { rules: [] })).status).toBe(200);
});
// Every worker test file shares one workerd and its KV: leave no rule for the next file.
afterAll(async () => {
  expect((await api('PUT', '/api/ttl/rules', { rules: [] })).status).toBe(200);
});

describe('TTL rules API', () => {
  it('puts, lists and deletes rules; the read-only token lists but cannot change', async () => {
    expect((await api('PUT', '/api/ttl/rules', RULES)).status).toBe(200);
    const listed = await api('GET', '/api/ttl/rules', undefined, DEV_OPERATOR_READ_TOKEN);
    expect(((await listed.json()) as { rules: { id: string }[] }).rules.map((r) => r.id)).toEqual([
      'live-segments',
      'manifests',
      'gone',
    ]);
    expect((await api('PUT', '/api/ttl/rules', { rules: [] }, DEV_OPERATOR_READ_TOKEN)).status).toBe(403);
    const deleted = await api('DELETE', '/api/ttl/rules/manifests');
    expect(((await deleted.json()) as { rules: { id: string }[] }).rules.map((r) => r.id)).toEqual([
      'live-segments',
      'gone',
    ]);
    const missing = await api('DELETE', '/api/ttl/rules/manifests');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('TTL_RULE_NOT_FOUND');
  });

  it('refuses a rule set whole, naming the rule and the field, and keeps the one before', async () => {
    expect((await api('PUT', '/api/ttl/rules', RULES)).status).toBe(200);
    const bad = { rules: [RULES.rules[0], { id: 'oops', match: { type: ['segmnt'] }, ttlMs: 10 }] };
    const res = await api('PUT', '/api/ttl/rules', bad);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('BAD_BODY');
    expect(error.message).toMatch(/rules\[1\] \(id "oops"\)\.match\.type\.0/);
    const listed = (await (await api('GET', '/api/ttl/rules')).json()) as { rules: unknown[] };
    expect(listed.rules).toHaveLength(3);
  });

  it('explains every object type: the rule that fires, the TTL in ms, what the defaults say', async () => {
    expect((await api('PUT', '/api/ttl/rules', RULES)).status).toBe(200);
    const seg = await explain('http://edge.example/live/big-final/v1/900000000.m4s');
    expect(seg).toMatchObject({ subject: { type: 'segment' }, rule: { id: 'live-segments' }, ttlMs: 7500 });
    expect(seg.defaults).toEqual({ ttlMs: 86_400_000, cacheControl: 'public, max-age=86400, immutable' });
    expect(await explain('/live/small/v1/900000000.m4s')).toMatchObject({ rule: null, ttlMs: 86_400_000 });
    expect(await explain('/live/big-final/index.mpd')).toMatchObject({
      subject: { type: 'mpd' },
      rule: { id: 'manifests' },
      ttlMs: 1250,
      cacheControl: 'public, max-age=1, stale-while-revalidate=2',
      defaults: { ttlMs: 1000 },
    });
    expect(await explain('/live/big-final/v1/index.m3u8')).toMatchObject({ subject: { type: 'media-playlist' } });
    expect(await explain('/live/big-final/index.m3u8')).toMatchObject({
      subject: { type: 'multivariant-playlist' },
      rule: null,
      ttlMs: 1000,
    });
    expect(await explain('/live/big-final/v1/init.mp4')).toMatchObject({ subject: { type: 'init' }, rule: null });
    expect(await explain('/live/big-final/text-en/5.vtt')).toMatchObject({ subject: { type: 'text' } });
    expect(await explain('/live/big-final/v1/5.m4s', '410')).toMatchObject({
      subject: { type: '410' },
      rule: { id: 'gone' },
      ttlMs: 120_000,
      defaults: { ttlMs: 60_000 },
    });
    const future = Math.floor(Date.now() / 2000) + 20;
    const early = await explain(`/live/big-final/v1/${future}.m4s`, '404');
    expect(early.subject.type).toBe('404');
    expect(early.ttlMs).toBeGreaterThan(30_000);
    expect(early.ttlMs).toBeLessThanOrEqual(41_500);
    expect(await explain('/live/big-final/v1/5.m4s', '503')).toMatchObject({
      ttlMs: 5000,
      cacheControl: 'public, max-age=5',
    });
    expect((await api('GET', `/api/ttl/explain?url=${encodeURIComponent('/api/x')}`)).status).toBe(400);
  });
});
