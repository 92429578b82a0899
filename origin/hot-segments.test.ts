import { describe, expect, it } from 'vitest';
import { HotSegments } from './hot-segments.ts';

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe('HotSegments', () => {
  it('answers only for the stored hash, and a replacement wins', () => {
    const hot = new HotSegments(1000);
    hot.put('v1/7/A/r1', 7, 'aa', bytes(10, 1));
    expect(hot.get('v1/7/A/r1', 'aa')).toEqual(bytes(10, 1));
    expect(hot.get('v1/7/A/r1', 'bb')).toBeUndefined();
    hot.put('v1/7/A/r1', 7, 'bb', bytes(20, 2));
    expect(hot.get('v1/7/A/r1', 'aa')).toBeUndefined();
    expect(hot.get('v1/7/A/r1', 'bb')).toEqual(bytes(20, 2));
    expect(hot.size).toBe(20);
  });

  it('stays within its byte budget, oldest out first, and skips one oversized segment', () => {
    const hot = new HotSegments(1000);
    for (let k = 0; k < 6; k++) hot.put(`v1/${k}/A/r1`, k, `h${k}`, bytes(200, k));
    expect(hot.size).toBe(1000);
    expect(hot.get('v1/0/A/r1', 'h0')).toBeUndefined();
    expect(hot.get('v1/5/A/r1', 'h5')).toEqual(bytes(200, 5));
    hot.put('v1/9/A/r1', 9, 'h9', bytes(251, 9)); // more than a quarter of the budget
    expect(hot.get('v1/9/A/r1', 'h9')).toBeUndefined();
    expect(hot.size).toBe(1000);
  });

  it('evicts what left the DVR window', () => {
    const hot = new HotSegments(1000);
    for (let k = 0; k < 4; k++) hot.put(`v1/${k}/A/r1`, k, `h${k}`, bytes(100, k));
    hot.evictBefore(2);
    expect(hot.size).toBe(200);
    expect(hot.get('v1/1/A/r1', 'h1')).toBeUndefined();
    expect(hot.get('v1/2/A/r1', 'h2')).toEqual(bytes(100, 2));
  });
});
