import { cyrb53Parts } from '../../contract/string-hash.ts';
/**
 * The fuzzer's only source of randomness: a small seeded PRNG (mulberry32). Mutation i of a run
 * is drawn from rngFor(seed, i) alone, so any one mutation can be replayed from the seed and its
 * index without generating the ones before it.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.next() / 2 ** 32) * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() / 2 ** 32 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Pick by weight: `[[weight, value], …]`. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    let r = this.int(choices.reduce((n, [w]) => n + w, 0));
    for (const [w, value] of choices) {
      if (r < w) return value;
      r -= w;
    }
    return choices[choices.length - 1][1];
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

/** The generator of mutation `index` of the run seeded with `seed` (cyrb53-style string hash). */
export function rngFor(seed: string, index: number): Rng {
  const { h1 } = cyrb53Parts(`${seed}:${index}`);
  return new Rng(h1 >>> 0);
}

/** A fresh seed for a run that was given none: short, printable, easy to paste back. */
export function newSeed(): string {
  return Math.floor(Math.random() * 2 ** 32)
    .toString(36)
    .padStart(7, '0');
}
