import { describe, expect, it } from 'vitest';
import type { OriginFact } from '../contract/origin-facts.ts';
import { TtlRuleSet } from '../contract/ttl-rules.ts';
import { type AnswerSubject, decideTtl, subjectType } from './answer-policy.ts';

const NOW = Date.UTC(2026, 11, 2, 12);
const segment: AnswerSubject = { type: 'segment', event: 'demo', track: 'v1', path: '/live/demo/v1/5.m4s' };
const rules = (raw: unknown) => TtlRuleSet.parse(raw).rules;
const decide = (fact: OriginFact, subject = segment, r: unknown = { rules: [] }) =>
  decideTtl(fact, subject, rules(r), NOW, () => 1);

describe('defaults (no rule): what the project always did', () => {
  it('a stored segment is immutable for a day', () => {
    expect(decide({ state: 'stored' })).toMatchObject({
      ttlMs: 86_400_000,
      cacheControl: 'public, max-age=86400, immutable',
      rule: 'default',
    });
  });
  it('a defective answer is never kept, a settling one a second, a manifest half a segment', () => {
    expect(decide({ state: 'defective', defects: ['short'] })).toMatchObject({ ttlMs: 0, cacheControl: 'no-store' });
    expect(decide({ state: 'settling' }).ttlMs).toBe(1000);
    const mpd = { type: 'mpd', event: 'demo', path: '/live/demo/index.mpd' } as const;
    expect(decide({ state: 'manifest', segmentDurationMs: 2000 }, mpd)).toMatchObject({ ttlMs: 1000 });
    expect(decide({ state: 'manifest', segmentDurationMs: 6000 }, mpd)).toMatchObject({
      ttlMs: 3000,
      cacheControl: 'public, max-age=3',
    });
  });
  it('a media playlist is kept until its next segment ends, then served while a refresh waits for it until due', () => {
    const playlist = { type: 'media-playlist', event: 'demo', track: 'v1', path: '/live/demo/v1/index.m3u8' } as const;
    const next = (endsIn: number) => ({
      state: 'manifest' as const,
      segmentDurationMs: 2000,
      nextSegment: { endsAtMs: NOW + endsIn, dueAtMs: NOW + endsIn + 1500 },
    });
    // Ends in 600 ms: fresh until then (not D/2 = 1000), stale-while-revalidate until due.
    expect(decide(next(600), playlist)).toMatchObject({
      ttlMs: 600,
      staleWhileRevalidateMs: 1500,
      cacheControl: 'no-store',
    });
    // Ends in 1.7 s: half a segment as before, no stale serving (refetched at 1 s like any manifest).
    expect(decide(next(1700), playlist)).toMatchObject({ ttlMs: 1000, staleWhileRevalidateMs: 0 });
    // Ended 200 ms ago and not listed yet: a quarter second, then stale until it is due.
    expect(decide(next(-200), playlist)).toMatchObject({ ttlMs: 250, staleWhileRevalidateMs: 1050 });
    // Past its due time (late, or its pipeline down): half a segment again, nothing stale.
    expect(decide(next(-1600), playlist)).toMatchObject({ ttlMs: 1000, staleWhileRevalidateMs: 0 });
    // A rule decides both, as for any answer; the edge's own wait is never sent downstream.
    const ruled = decide(next(600), playlist, {
      rules: [{ id: 'pl', match: { type: ['media-playlist'] }, ttlMs: 2000, staleWhileRevalidateMs: 0 }],
    });
    expect(ruled).toMatchObject({ ttlMs: 2000, staleWhileRevalidateMs: 0, rule: 'pl' });
  });
  it('a 404 for a segment not yet due runs out 500 ms before it is due, at most 5 minutes', () => {
    const e404 = { ...segment, type: '404' } as const;
    expect(decide({ state: 'early', dueMs: NOW + 4200 }, e404)).toMatchObject({
      ttlMs: 3700,
      cacheControl: 'public, max-age=3',
    });
    expect(decide({ state: 'early', dueMs: NOW + 900 }, e404)).toMatchObject({ ttlMs: 400, cacheControl: 'no-store' });
    expect(decide({ state: 'early', dueMs: NOW + 3_600_000 }, e404).ttlMs).toBe(300_000);
  });
  it('410 a minute (not kept when just gone), 503 five seconds with Retry-After, operator views never', () => {
    expect(decide({ state: 'gone', recent: false }, { ...segment, type: '410' }).cacheControl).toBe(
      'public, max-age=60',
    );
    expect(decide({ state: 'gone', recent: true }, { ...segment, type: '410' }).cacheControl).toBe('no-store');
    const shed = decide({ state: 'shed', retryAfterMs: 5000 }, { ...segment, type: '503' });
    expect(shed).toMatchObject({ ttlMs: 5000, cacheControl: 'public, max-age=5', headers: { 'retry-after': '5' } });
    expect(decide({ state: 'private' })).toMatchObject({ ttlMs: 0, cacheControl: 'private, no-store' });
  });
  it('refusals match rules by their status', () => {
    expect(subjectType('segment', 404)).toBe('404');
    expect(subjectType('mpd', 200)).toBe('mpd');
    expect(subjectType('init', 503)).toBe('503');
  });
});

describe('operator rules', () => {
  it('first match wins; type, event, track and path globs all have to hold', () => {
    const set = {
      rules: [
        { id: 'other-event', match: { event: 'other-*' }, ttlMs: 1 },
        { id: 'v1-segments', match: { type: ['segment'], track: 'v?', path: '/live/*/v1/*.m4s' }, ttlMs: 7_250 },
        { id: 'catch-all', ttlMs: 2_000 },
      ],
    };
    expect(decide({ state: 'stored' }, segment, set)).toMatchObject({
      rule: 'v1-segments',
      ttlMs: 7250,
      cacheControl: 'public, max-age=7',
      defaultTtlMs: 86_400_000,
    });
    const audio = { ...segment, track: 'aen', path: '/live/demo/aen/5.m4s' };
    expect(decide({ state: 'stored' }, audio, set).rule).toBe('catch-all');
  });
  it('stale-while-revalidate and jitter', () => {
    const set = {
      rules: [{ id: 'mpd', match: { type: ['mpd'] }, ttlMs: 10_000, staleWhileRevalidateMs: 4_000, jitterPercent: 10 }],
    };
    const mpd = { type: 'mpd', event: 'demo', path: '/live/demo/index.mpd' } as const;
    const high = decideTtl({ state: 'manifest', segmentDurationMs: 2000 }, mpd, rules(set), NOW, () => 1);
    const low = decideTtl({ state: 'manifest', segmentDurationMs: 2000 }, mpd, rules(set), NOW, () => 0);
    expect(high).toMatchObject({ ttlMs: 11_000, staleWhileRevalidateMs: 4000 });
    expect(high.cacheControl).toBe('public, max-age=11, stale-while-revalidate=4');
    expect(low.ttlMs).toBe(9000);
  });
  it('no rule keeps "not yet" past the moment the segment is due', () => {
    const set = { rules: [{ id: 'long-404', match: { type: ['404'] }, ttlMs: 60_000 }] };
    const d = decide({ state: 'early', dueMs: NOW + 2500 }, { ...segment, type: '404' }, set);
    expect(d).toMatchObject({ rule: 'long-404', ttlMs: 2000, cacheControl: 'public, max-age=2' });
  });
  it('a rule cannot share an operator view', () => {
    expect(decide({ state: 'private' }, segment, { rules: [{ id: 'all', ttlMs: 9000 }] }).cacheControl).toBe(
      'private, no-store',
    );
  });
});
