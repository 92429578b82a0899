import { describe, expect, it } from 'vitest';
import { globMatches, ruleSetProblem, TtlRuleSet } from './ttl-rules.ts';

const problem = (raw: unknown) => {
  const parsed = TtlRuleSet.safeParse(raw);
  return parsed.success ? 'ok' : ruleSetProblem(raw, parsed.error);
};

describe('TTL rule sets are checked whole', () => {
  it('accepts every field', () => {
    expect(
      problem({
        rules: [
          {
            id: 'all-fields',
            match: { type: ['segment', '404'], event: 'big-*', track: 'v?', path: '/live/*' },
            ttlMs: 1500,
            staleWhileRevalidateMs: 500,
            jitterPercent: 5,
          },
        ],
      }),
    ).toBe('ok');
  });
  it('names the rule and the field that is wrong', () => {
    const set = {
      rules: [
        { id: 'fine', ttlMs: 1 },
        { id: 'bad-ttl', ttlMs: -5 },
      ],
    };
    expect(problem(set)).toMatch(/^rules\[1\] \(id "bad-ttl"\)\.ttlMs: /);
    expect(problem({ rules: [{ id: 'x', ttlMs: 1, match: { type: ['manifest'] } }] })).toMatch(
      /rules\[0\] \(id "x"\)\.match\.type\.0: /,
    );
    expect(problem({ rules: [{ id: 'x', ttlMs: 1, match: { colour: 'red' } }] })).toMatch(
      /rules\[0\] \(id "x"\)\.match/,
    );
    expect(problem({ rules: [{ id: 'x', ttlMs: 1, jitterPercent: 80 }] })).toMatch(/jitterPercent/);
    expect(
      problem({
        rules: [
          { id: 'x', ttlMs: 1 },
          { id: 'x', ttlMs: 2 },
        ],
      }),
    ).toMatch(/rules\[1\].*duplicate id "x"/);
    expect(problem({ rules: [{ id: 'Bad Id', ttlMs: 1 }] })).toMatch(/rules\[0\] \(id "Bad Id"\)\.id: rule id/);
    expect(problem({ rules: 'none' })).toMatch(/^rules: /);
  });
});

describe('globs', () => {
  it('* any run, ? one character, the rest literal', () => {
    expect(globMatches('/live/*/v1/*.m4s', '/live/demo/v1/123.m4s')).toBe(true);
    expect(globMatches('/live/*/v1/*.m4s', '/live/demo/v10/123.m4s')).toBe(false);
    expect(globMatches('v?', 'v1')).toBe(true);
    expect(globMatches('v?', 'v10')).toBe(false);
    expect(globMatches('a.b', 'axb')).toBe(false);
  });
});
