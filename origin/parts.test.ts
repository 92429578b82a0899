import { describe, expect, it } from 'vitest';
import { defaultEventConfig } from '../contract/event-config.ts';
import { partTiming } from './part-timing.ts';
import { KEPT_SEGMENTS, PartStore } from './parts.ts';

const part = (pipeline: string, durationS = 0.5) => ({
  pipeline,
  bytes: new Uint8Array([pipeline.charCodeAt(0)]),
  durationS,
  independent: false,
  receivedAt: 0,
});
const all = () => true;

describe('PartStore', () => {
  it('lists parts in order up to the first missing one, the preferred pipeline first, masks honoured', () => {
    const store = new PartStore();
    expect(store.put('v1', 10, 0, part('B'))).toBe(true);
    expect(store.put('v1', 10, 0, part('B'))).toBe(false); // a retried PUT
    store.put('v1', 10, 1, part('A'));
    store.put('v1', 10, 3, part('A')); // part 2 never came: part 3 is not listed yet
    store.put('v1', 11, 0, part('A'));
    store.put('v1', 10, 0, part('A', 0.52));
    expect(store.list('v1', ['A', 'B'], all).map((p) => [p.k, p.n, p.durationS])).toEqual([
      [10, 0, 0.52],
      [10, 1, 0.5],
      [11, 0, 0.5],
    ]);
    expect(store.get('v1', 10, 0, ['A', 'B'], all)?.pipeline).toBe('A');
    expect(store.get('v1', 10, 0, ['A', 'B'], (p) => p !== 'A')?.pipeline).toBe('B');
    // A masked for K = 10: only B's part 0 of 10 is left, and 11 comes from A.
    const maskedA = (p: string, k: number) => !(p === 'A' && k === 10);
    expect(store.list('v1', ['A', 'B'], maskedA).map((p) => `${p.k}.${p.n}`)).toEqual(['10.0', '11.0']);
    expect(store.latest('v1', ['A', 'B'], all)).toMatchObject({ k: 11, n: 0 });
    expect(store.latest('v2', ['A'], all)).toBeUndefined();
  });

  it(`keeps the newest ${KEPT_SEGMENTS} segments of parts per track`, () => {
    const store = new PartStore();
    for (let k = 0; k < 10; k++) store.put('v1', k, 0, part('A'));
    expect(store.list('v1', ['A'], all).map((p) => p.k)).toEqual([6, 7, 8, 9]);
  });
});

describe('partTiming', () => {
  const config = defaultEventConfig; // D = 2 s, 0.5 s parts, pipelineDelayMs 1500
  const D = config.segmentDurationMs;
  it('holds a part from a segment before it starts until its segment is due, 404 before, 410 after', () => {
    const k = 1000;
    // Part 2 of K covers [K·D + 1000, K·D + 1500).
    expect(partTiming(k, 2, k * D - 1500, config)).toEqual({ kind: 'early', dueMs: k * D + 1000 - D });
    expect(partTiming(k, 2, k * D + 1000 - D, config)).toEqual({
      kind: 'hold',
      untilMs: (k + 1) * D + config.pipelineDelayMs,
    });
    expect(partTiming(k, 2, (k + 1) * D + config.pipelineDelayMs, config)).toEqual({ kind: 'gone' });
    // The last part: its own end plus the delay plus a part, past the segment's due time.
    expect(partTiming(k, 3, k * D + 1600, config)).toEqual({
      kind: 'hold',
      untilMs: (k + 1) * D + config.pipelineDelayMs + 500,
    });
  });

  it('1/3 s parts (latency.partDurationMs 333): six per segment', () => {
    const six = { ...config, latency: { partDurationMs: 333 as const } };
    expect(partTiming(7, 5, 7 * D + 1700, six)).toMatchObject({ kind: 'hold' });
  });
});
