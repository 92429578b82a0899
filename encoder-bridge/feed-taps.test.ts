import { describe, expect, it } from 'vitest';
import { feedTaps } from './feed-taps.ts';

describe('feedTaps', () => {
  it('one tap is itself, none is undefined', () => {
    const tap = { push: () => {}, endOfFeed: () => {} };
    expect(feedTaps(undefined, tap)).toBe(tap);
    expect(feedTaps(undefined)).toBeUndefined();
  });

  it('every tap sees every packet even when one throws; the error still reaches the pipeline', () => {
    const seen: string[] = [];
    const taps = feedTaps(
      {
        push: () => {
          throw new Error('broken captions');
        },
        endOfFeed: () => seen.push('a end'),
      },
      { push: (p) => seen.push(`b ${p.length}`), endOfFeed: () => seen.push('b end') },
    )!;
    expect(() => taps.push(new Uint8Array(188))).toThrow('broken captions');
    taps.endOfFeed();
    expect(seen).toEqual(['b 188', 'a end', 'b end']);
  });
});
