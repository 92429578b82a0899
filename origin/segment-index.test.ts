import { describe, expect, it } from 'vitest';
import { SegmentIndex } from './segment-index.ts';

const runs = (index: SegmentIndex, track = 'v1', pipeline = 'A') =>
  (index.pipelinesOf(track).get(pipeline) ?? []).map((r) => [r.from, r.to]);

describe('SegmentIndex', () => {
  it('keeps runs of consecutive K, whatever order they arrive in', () => {
    const index = new SegmentIndex();
    for (const k of [10, 11, 12, 20, 14, 13, 9, 30, 21, 25, 12]) index.add('v1', 'A', k);
    expect(runs(index)).toEqual([
      [9, 14],
      [20, 21],
      [25, 25],
      [30, 30],
    ]);
    index.add('v1', 'A', 22);
    index.add('v1', 'A', 24);
    index.add('v1', 'A', 23);
    expect(runs(index)).toEqual([
      [9, 14],
      [20, 25],
      [30, 30],
    ]);
    expect(index.newest('v1', 'A')).toBe(30);
    expect(index.newest('v1', 'B')).toBeUndefined();
  });

  it('matches a set of K on random input', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 50; round++) {
      const index = new SegmentIndex();
      const set = new Set<number>();
      for (let i = 0; i < 60; i++) {
        const k = Math.floor(random() * 80);
        index.add('v1', 'A', k);
        set.add(k);
      }
      const expanded = runs(index).flatMap(([from, to]) => Array.from({ length: to - from + 1 }, (_, i) => from + i));
      expect(expanded).toEqual([...set].sort((a, b) => a - b));
      // Runs never touch: adjacent ones would be one.
      const r = runs(index);
      for (let i = 1; i < r.length; i++) expect(r[i][0]).toBeGreaterThan(r[i - 1][1] + 1);
    }
  });

  it('forgets what eviction deleted, dropping emptied pipelines and tracks', () => {
    const index = new SegmentIndex();
    for (let k = 0; k < 10; k++) index.add('v1', 'A', k);
    index.add('v1', 'B', 2);
    index.add('v1', 'A', 50);
    index.keepOnly(4, 20);
    expect(runs(index)).toEqual([[4, 9]]);
    expect(index.pipelinesOf('v1').has('B')).toBe(false);
    index.keepOnly(30);
    expect(index.tracks()).toEqual([]);
  });
});
