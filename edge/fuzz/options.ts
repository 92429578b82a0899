/**
 * What a fuzz run does (edge/fuzz/ingest-fuzz.worker.test.ts). The suite's run (`npm test`,
 * `npm run test:unit`) uses the defaults; `npm run fuzz` (scripts/fuzz.ts) provides its own.
 */
export interface FuzzOptions {
  /** Any string; mutation i is drawn from (seed, i) alone. */
  seed: string;
  /** Mutations to send. */
  count: number;
  /** Replay: send only these mutation indexes. */
  only?: number[];
  /** The run fails if it has not finished by then (a run this slow is a finding in itself). */
  timeLimitMs?: number;
}

/** 2,000 mutations with a fixed seed: the same run on every machine, well under 20 s. */
export const SUITE_FUZZ: FuzzOptions = { seed: 'suite', count: 2000 };

/** An answer that takes longer than this is a hang. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** Default time budget: generous for a loaded 2-core machine (about 5 ms a mutation is typical). */
export function timeLimitMs(o: FuzzOptions): number {
  return o.timeLimitMs ?? 60_000 + (o.only?.length ?? o.count) * 30;
}

declare module 'vitest' {
  export interface ProvidedContext {
    fuzz?: FuzzOptions;
  }
}
