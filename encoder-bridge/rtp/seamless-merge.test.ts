import { describe, expect, it } from 'vitest';
import { SeamlessMerger, type MergedPacket } from './seamless-merge.ts';

/** A deterministic run: arrivals at given times (ms), the merger ticked every `tickMs`. */
function simulate(
  arrivals: { at: number; path: number; seq: number }[],
  opts: { skewMs?: number; tickMs?: number; until?: number } = {},
) {
  let t = 0;
  const merger = new SeamlessMerger({ skewMs: opts.skewMs ?? 200, now: () => t });
  const out: MergedPacket[] = [];
  const events = [...arrivals].sort((a, b) => a.at - b.at);
  const end = opts.until ?? Math.max(...events.map((e) => e.at)) + 1000;
  let i = 0;
  for (t = 0; t <= end; t += opts.tickMs ?? 10) {
    while (i < events.length && events[i].at <= t) {
      const e = events[i++];
      out.push(...merger.push(e.path, e.seq, Uint8Array.of(e.seq & 0xff, e.seq >> 8)));
    }
    out.push(...merger.tick());
  }
  return { merger, out, seqs: out.map((p) => p.sequence), counters: merger.counters };
}

/** Both paths carry packets `from..to` every `intervalMs`; `delay` per path, `skip` per path. */
function twoPaths(opts: {
  count: number;
  first?: number;
  intervalMs?: number;
  delay?: [number, number];
  skip?: [number[], number[]];
}) {
  const arrivals: { at: number; path: number; seq: number }[] = [];
  for (let n = 0; n < opts.count; n++) {
    const seq = ((opts.first ?? 1000) + n) % 65536;
    for (const path of [0, 1]) {
      if (opts.skip?.[path].includes(seq)) continue;
      arrivals.push({ at: n * (opts.intervalMs ?? 5) + (opts.delay?.[path] ?? 0), path, seq });
    }
  }
  return arrivals;
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('SeamlessMerger (SMPTE 2022-7 style)', () => {
  it('emits each number once, in order, from whichever path delivered first', () => {
    const { seqs, counters } = simulate(twoPaths({ count: 100, delay: [0, 3] }));
    expect(seqs).toEqual(range(1000, 100));
    expect(counters.emitted).toBe(100);
    expect(counters.lost).toBe(0);
    expect(counters.paths[0]).toEqual({ received: 100, used: 100, duplicate: 0, late: 0, lost: 0 });
    expect(counters.paths[1]).toEqual({ received: 100, used: 0, duplicate: 100, late: 0, lost: 0 });
  });

  it('puts reordered packets back in order', () => {
    const arrivals = [1000, 1001, 1003, 1002, 1005, 1004, 1006].map((seq, i) => ({ at: 300 + i, path: 0, seq }));
    const { seqs, counters } = simulate(arrivals);
    expect(seqs).toEqual(range(1000, 7));
    expect(counters.lost).toBe(0);
  });

  it('starts one skew window after the first packet, from the lowest number seen (a reordered start is not lost)', () => {
    const { out, seqs } = simulate([
      { at: 0, path: 0, seq: 11 },
      { at: 20, path: 0, seq: 10 },
      { at: 30, path: 0, seq: 12 },
    ]);
    expect(seqs).toEqual([10, 11, 12]);
    expect(out).toHaveLength(3);
  });

  it('loss on one path only: zero merged loss, the path is charged', () => {
    const { seqs, counters } = simulate(twoPaths({ count: 200, delay: [0, 40], skip: [[1050, 1051, 1120], [1180]] }));
    expect(seqs).toEqual(range(1000, 200));
    expect(counters.lost).toBe(0);
    expect(counters.paths[0].lost).toBe(3);
    expect(counters.paths[1].lost).toBe(1);
    expect(counters.paths[1].used).toBe(3); // the numbers path 0 missed came from path 1
    for (const p of counters.paths) expect(p.used + p.duplicate + p.late).toBe(p.received);
  });

  it('a packet late on one path but present on the other within the window is never lost', () => {
    // path 1 lags 150 ms; path 0 misses 1050: emission waits for path 1's copy
    const { seqs, counters } = simulate(twoPaths({ count: 100, delay: [0, 150], skip: [[1050], []] }));
    expect(seqs).toEqual(range(1000, 100));
    expect(counters.lost).toBe(0);
  });

  it('loss of the same number on both paths is counted lost exactly once, only after the skew window', () => {
    let t = 0;
    const merger = new SeamlessMerger({ skewMs: 200, now: () => t });
    const emitted: number[] = [];
    const push = (path: number, seq: number) =>
      emitted.push(...merger.push(path, seq, new Uint8Array(1)).map((p) => p.sequence));
    push(0, 1);
    push(1, 1);
    t = 200;
    emitted.push(...merger.tick().map((p) => p.sequence));
    expect(emitted).toEqual([1]);
    t = 210;
    push(0, 3);
    push(1, 3);
    t = 409;
    expect(merger.tick()).toEqual([]); // 199 ms since 3 arrived: 2 may still come
    expect(merger.counters.lost).toBe(0);
    t = 410;
    expect(merger.tick().map((p) => p.sequence)).toEqual([3]);
    expect(merger.counters.lost).toBe(1);
    push(1, 2); // too late: already declared lost
    t = 1000;
    merger.tick();
    expect(merger.counters.lost).toBe(1);
    expect(merger.counters.paths.map((p) => p.lost)).toEqual([1, 1]);
    expect(merger.counters.paths[1].late).toBe(1);
  });

  it('unwraps the sequence number at 65535 → 0', () => {
    const { seqs, counters } = simulate(twoPaths({ count: 40, first: 65520, skip: [[65535, 2], [0]] }));
    expect(seqs).toEqual(range(65520, 40));
    expect(seqs.at(-1)).toBe(65559);
    expect(counters.lost).toBe(0);
    expect(counters.paths[0].lost).toBe(2);
    expect(counters.paths[1].lost).toBe(1);
  });

  it('skew beyond the window: the lagging copy arrives too late, the number is lost and the copy counted late', () => {
    const { seqs, counters } = simulate(twoPaths({ count: 100, delay: [0, 300], skip: [[1050], []] }));
    expect(seqs).toEqual(range(1000, 100).filter((s) => s !== 1050));
    expect(counters.lost).toBe(1);
    // path 1's copies all arrive 300 ms after path 0's: past the window they are late, not merged
    expect(counters.paths[1].late).toBeGreaterThan(50);
    expect(counters.paths[1].duplicate + counters.paths[1].late).toBe(100);
    expect(counters.paths[1].used).toBe(0);
  });

  it('counts duplicates from the same path and from the other path', () => {
    const arrivals = [
      { at: 0, path: 0, seq: 7 },
      { at: 1, path: 0, seq: 7 }, // network duplicate before emission
      { at: 2, path: 1, seq: 7 },
      { at: 300, path: 0, seq: 8 },
      { at: 301, path: 0, seq: 8 }, // after emission
      { at: 302, path: 1, seq: 8 },
    ];
    const { seqs, counters } = simulate(arrivals);
    expect(seqs).toEqual([7, 8]);
    expect(counters.paths[0]).toEqual({ received: 4, used: 2, duplicate: 2, late: 0, lost: 0 });
    expect(counters.paths[1]).toEqual({ received: 2, used: 0, duplicate: 2, late: 0, lost: 0 });
  });

  it('a long outage on one path is bridged by the other, and charged to the outage path', () => {
    const cut = range(1100, 500);
    const { seqs, counters } = simulate(twoPaths({ count: 1000, delay: [5, 0], skip: [cut, []] }));
    expect(seqs).toEqual(range(1000, 1000));
    expect(counters.lost).toBe(0);
    expect(counters.paths[0].lost).toBe(500);
    expect(sum(counters.paths.map((p) => p.used))).toBe(1000);
  });

  it('flush() ends the stream: everything held is emitted and remaining gaps are lost', () => {
    const t = 0;
    const merger = new SeamlessMerger({ now: () => t });
    merger.push(0, 1, new Uint8Array(1));
    merger.push(0, 4, new Uint8Array(1));
    expect(merger.flush().map((p) => p.sequence)).toEqual([1, 4]);
    expect(merger.counters.lost).toBe(2);
    expect(merger.counters.paths[1].lost).toBe(4);
  });
});
