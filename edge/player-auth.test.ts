import { describe, expect, it } from 'vitest';
import type { EventStateSummary } from '../contract/event-state.ts';
import { devKeysAllowed, requireAllowedKeySource } from './drm-packaging.ts';
import { privateCacheControl, tokensRequired } from './player-auth.ts';

const state = (t: number, tokens?: boolean): EventStateSummary => ({
  version: 1,
  ended: false,
  t,
  tokens,
  pipelines: [],
});

describe('tokensRequired: the newest known state decides', () => {
  it.each([
    ['nothing known', undefined, undefined, false],
    ['answer protected', state(2, true), undefined, true],
    ['answer open', state(2), undefined, false],
    ['only memory protected', undefined, state(1, true), true],
    ['answer newer and open: switched off since', state(2), state(1, true), false],
    ['answer older and open (a copy kept before the switch)', state(1), state(2, true), true],
    ['answer newer and protected', state(3, true), state(2), true],
    ['same instant', state(2, true), state(2), true],
  ] as const)('%s', (_name, answer, remembered, expected) => {
    expect(tokensRequired(answer, remembered)).toBe(expected);
  });
});

describe('privateCacheControl', () => {
  it('keeps the lifetime, for this browser only', () => {
    expect(privateCacheControl('public, max-age=86400, immutable')).toBe('private, max-age=86400, immutable');
    expect(privateCacheControl('public, max-age=1, stale-while-revalidate=1')).toBe(
      'private, max-age=1, stale-while-revalidate=1',
    );
    expect(privateCacheControl('no-store')).toBe('no-store');
    expect(privateCacheControl(null)).toBeNull();
  });
});

describe('the development key store: only where ALLOW_DEV_KEYS is exactly "true"', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['false', false],
    ['1', false],
    ['TRUE', false],
    ['true', true],
  ])('ALLOW_DEV_KEYS=%s: %s', (value, allowed) => {
    const env = { ALLOW_DEV_KEYS: value as string };
    expect(devKeysAllowed(env)).toBe(allowed);
    for (const drm of [{ scheme: 'cenc' }, { scheme: 'cbcs', keys: { provider: 'local' } }] as const) {
      if (allowed) expect(() => requireAllowedKeySource(drm, env)).not.toThrow();
      else
        expect(() => requireAllowedKeySource(drm, env)).toThrow(
          expect.objectContaining({ code: 'DEV_KEYS_NOT_ALLOWED' }),
        );
    }
    // A key service is never the published store.
    expect(() =>
      requireAllowedKeySource({ scheme: 'cenc', keys: { provider: 'cpix', url: 'https://keys.example/' } }, env),
    ).not.toThrow();
  });
});
