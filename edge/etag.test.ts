import { describe, expect, it } from 'vitest';
import { etagFor, matchesIfNoneMatch } from './etag.ts';

describe('etag', () => {
  it('changes with the event version', () => {
    expect(etagFor(1, 'abcdef0123456789ffff')).toBe('"v1-abcdef0123456789"');
    expect(etagFor(2, 'abcdef0123456789ffff')).not.toBe(etagFor(1, 'abcdef0123456789ffff'));
  });
  it('matches If-None-Match lists, weak tags and *', () => {
    expect(matchesIfNoneMatch('"a", W/"v1-x"', '"v1-x"')).toBe(true);
    expect(matchesIfNoneMatch('*', '"v1-x"')).toBe(true);
    expect(matchesIfNoneMatch('"v2-x"', '"v1-x"')).toBe(false);
    expect(matchesIfNoneMatch(null, '"v1-x"')).toBe(false);
  });
});
