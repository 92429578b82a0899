/**
 * Network impairment for tests and demos of the two-path contribution: random drops from a seeded
 * PRNG (runs are reproducible) and outage windows during which a path sends nothing.
 *
 * Drop modes:
 * - `disjoint` (default): random drops never take away a packet's last copy — the paths drop
 *   different packets, so a correct 2022-7 merge recovers everything and any merged loss is a bug.
 *   Only outages that overlap on both paths lose packets.
 * - `independent`: each path draws on its own, as real networks do; both paths then lose the same
 *   packet with probability p1·p2.
 */
export interface OutageWindow {
  /** Relative to the first packet sent (ms). */
  fromMs: number;
  toMs: number;
}

export interface PathImpairment {
  /** Probability that a packet is dropped on this path (0–1). */
  drop?: number;
  outages?: OutageWindow[];
}

export interface ImpairmentOptions {
  paths: (PathImpairment | undefined)[];
  seed?: number;
  mode?: 'disjoint' | 'independent';
}

/** mulberry32: a tiny, well-distributed 32-bit PRNG; the same seed gives the same drops. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Impairment {
  private readonly paths: PathImpairment[];
  private readonly mode: 'disjoint' | 'independent';
  private readonly draws: (() => number)[];

  constructor(opts: ImpairmentOptions, pathCount: number) {
    this.paths = Array.from({ length: pathCount }, (_, i) => opts.paths[i] ?? {});
    this.mode = opts.mode ?? 'disjoint';
    const total = this.paths.reduce((sum, p) => sum + (p.drop ?? 0), 0);
    if (this.mode === 'disjoint' && total > 1)
      throw new RangeError('disjoint drops need the drop probabilities to add up to at most 1');
    const seed = opts.seed ?? 1;
    this.draws = this.paths.map((_, i) => seededRandom(this.mode === 'disjoint' ? seed : seed + i * 0x9e3779b9));
  }

  /** For one packet at `elapsedMs`: what happens to it on each path. */
  decide(elapsedMs: number): ('send' | 'drop' | 'cut')[] {
    const cut = this.paths.map((p) => (p.outages ?? []).some((w) => elapsedMs >= w.fromMs && elapsedMs < w.toMs));
    if (this.mode === 'independent') {
      return this.paths.map((p, i) => (cut[i] ? 'cut' : this.draws[i]() < (p.drop ?? 0) ? 'drop' : 'send'));
    }
    // One draw per packet; path i owns the band [Σ p<i, Σ p≤i) so no two paths drop the same packet.
    const r = this.draws[0]();
    let low = 0;
    return this.paths.map((p, i) => {
      const high = low + (p.drop ?? 0);
      const inBand = r >= low && r < high;
      low = high;
      if (cut[i]) return 'cut';
      const anotherPathSends = cut.some((c, j) => j !== i && !c);
      return inBand && anotherPathSends ? 'drop' : 'send';
    });
  }
}
