import { describe, expect, it } from 'vitest';
import { Impairment } from './impairment.ts';

const run = (impairment: Impairment, packets: number, msPerPacket = 1) =>
  Array.from({ length: packets }, (_, i) => impairment.decide(i * msPerPacket));

describe('Impairment (simulated network trouble)', () => {
  it('is reproducible from its seed', () => {
    const opts = { seed: 42, paths: [{ drop: 0.1 }, { drop: 0.1 }] };
    expect(run(new Impairment(opts, 2), 1000)).toEqual(run(new Impairment(opts, 2), 1000));
    expect(run(new Impairment({ ...opts, seed: 43 }, 2), 1000)).not.toEqual(run(new Impairment(opts, 2), 1000));
  });

  it('disjoint: each path drops about its share, never the same packet, never the last copy', () => {
    const fates = run(
      new Impairment({ seed: 1, paths: [{ drop: 0.1, outages: [{ fromMs: 2000, toMs: 4000 }] }, { drop: 0.1 }] }, 2),
      10_000,
    );
    const count = (path: number, fate: string) => fates.filter((f) => f[path] === fate).length;
    expect(count(0, 'cut')).toBe(2000);
    expect(count(0, 'drop')).toBeGreaterThan(700); // 10% of the 8000 outside the cut
    expect(count(0, 'drop')).toBeLessThan(900);
    expect(count(1, 'drop')).toBeGreaterThan(700);
    expect(count(1, 'drop')).toBeLessThan(900);
    expect(fates.filter((f) => f.every((x) => x !== 'send'))).toEqual([]);
  });

  it('independent: both paths sometimes lose the same packet (p1·p2)', () => {
    const fates = run(
      new Impairment({ seed: 1, mode: 'independent', paths: [{ drop: 0.2 }, { drop: 0.2 }] }, 2),
      10_000,
    );
    const both = fates.filter((f) => f[0] === 'drop' && f[1] === 'drop').length;
    expect(both).toBeGreaterThan(300); // expected 400
    expect(both).toBeLessThan(500);
  });
});
