import { describe, expect, it } from 'vitest';
import type { Mask } from '../contract/operator.ts';
import { listedSegments } from './listed-segments.ts';
import { SegmentIndex } from './segment-index.ts';

/** The per-K rule listedSegments replaces (what manifests did before): the reference to compare with. */
function perK(
  stored: Map<string, Map<string, Set<number>>>,
  masks: Mask[],
  start: number,
  end: number,
  gone: (track: string, k: number) => boolean,
) {
  const masked = (p: string, k: number) =>
    masks.some((m) => m.pipeline === p && k >= m.fromK && (m.toK === null || k <= m.toK));
  const byTrack = new Map<string, number[]>();
  for (const [track, pipelines] of stored) {
    const ks = new Set<number>();
    for (const [p, set] of pipelines) for (const k of set) if (k >= start && k <= end && !masked(p, k)) ks.add(k);
    if (ks.size)
      byTrack.set(
        track,
        [...ks].sort((a, b) => a - b),
      );
  }
  let first: number | undefined;
  for (const ks of byTrack.values()) first = Math.min(first ?? ks[0], ks[0]);
  const lastSegmentByTrack: Record<string, number> = {};
  const gapsByTrack: Record<string, number[]> = {};
  for (const [track, ks] of byTrack) {
    let last = ks[ks.length - 1];
    const have = new Set(ks);
    const gaps: number[] = [];
    for (let k = first!; k <= last; k++) {
      if (have.has(k)) continue;
      if (!gone(track, k)) {
        last = k - 1;
        break;
      }
      gaps.push(k);
    }
    if (last < first!) continue;
    lastSegmentByTrack[track] = last;
    if (gaps.length) gapsByTrack[track] = gaps;
  }
  return { firstSegment: first, lastSegmentByTrack, gapsByTrack };
}

describe('listedSegments', () => {
  it('lists what any unmasked pipeline stored, with gone holes as gaps and the first late hole ending the list', () => {
    const index = new SegmentIndex();
    for (const k of [100, 101, 102, 105, 106, 110]) index.add('v1', 'A', k);
    for (const k of [100, 103]) index.add('v1', 'B', k);
    const masks: Mask[] = [{ id: 1, pipeline: 'B', fromK: 103, toK: 103, createdAt: 0 }];
    const listed = listedSegments(
      [['v1', index.pipelinesOf('v1')]],
      masks,
      0,
      1000,
      (_t, k) => k < 108, // 103, 104 gone (103 only masked copies); 107 gone; 108 late
    );
    expect(listed).toEqual({
      firstSegment: 100,
      lastSegmentByTrack: { v1: 107 },
      gapsByTrack: { v1: [103, 104, 107] },
    });
  });

  it('agrees with the per-K rule on random stores, masks, windows and deadlines', () => {
    let seed = 11;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const int = (n: number) => Math.floor(random() * n);
    for (let round = 0; round < 300; round++) {
      const index = new SegmentIndex();
      const stored = new Map<string, Map<string, Set<number>>>();
      for (const track of ['v1', 'v2', 'a1'].slice(0, 1 + int(3)))
        for (const p of ['A', 'B'].slice(0, 1 + int(2)))
          for (let i = int(40); i > 0; i--) {
            const k = int(60);
            index.add(track, p, k);
            const pipelines = stored.get(track) ?? new Map<string, Set<number>>();
            stored.set(track, pipelines);
            pipelines.set(p, (pipelines.get(p) ?? new Set()).add(k));
          }
      const masks: Mask[] = Array.from({ length: int(3) }, (_, id) => {
        const fromK = int(60);
        return {
          id,
          pipeline: random() < 0.5 ? 'A' : 'B',
          fromK,
          toK: random() < 0.3 ? null : fromK + int(10),
          createdAt: 0,
        };
      });
      const start = int(20);
      const end = 40 + int(30);
      const goneBefore = new Map(['v1', 'v2', 'a1'].map((t) => [t, int(70)]));
      const gone = (t: string, k: number) => k < goneBefore.get(t)!;
      const tracks = index.tracks().map((t) => [t, index.pipelinesOf(t)] as const);
      expect(listedSegments(tracks, masks, start, end, gone), `round ${round}`).toEqual(
        perK(stored, masks, start, end, gone),
      );
    }
  });
});
