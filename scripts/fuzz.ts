/**
 * `npm run fuzz`: the fuzzer of edge/fuzz/ (docs/fuzzing.md) with 10,000 mutations and a fresh
 * seed, against the Worker and its origin objects in workerd (vitest project `worker`).
 *
 *   npm run fuzz                                  10,000 mutations, new seed (printed)
 *   npm run fuzz -- --seed k3x9a1 --count 50000   a given seed and count
 *   npm run fuzz -- --seed k3x9a1 --only 812,4410 replay mutations of a failed run
 *   npm run fuzz -- --time-limit 600              seconds before the run counts as failed
 *
 * FUZZ_SEED and FUZZ_COUNT work as well as the flags.
 */
import { parseArgs } from 'node:util';
import { startVitest } from 'vitest/node';
import type { FuzzOptions } from '../edge/fuzz/options.ts';
import { newSeed } from '../edge/fuzz/rng.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    count: { type: 'string' },
    only: { type: 'string' },
    'time-limit': { type: 'string' },
  },
});
const fuzz: FuzzOptions = {
  seed: values.seed ?? process.env.FUZZ_SEED ?? newSeed(),
  count: Number(values.count ?? process.env.FUZZ_COUNT ?? 10_000),
};
if (values.only) fuzz.only = values.only.split(',').map(Number);
if (values['time-limit']) fuzz.timeLimitMs = Number(values['time-limit']) * 1000;
if (!Number.isInteger(fuzz.count) || fuzz.count < 1) throw new Error(`--count must be a positive integer`);
console.log(`fuzz: seed ${fuzz.seed}, ${fuzz.only ? `mutations ${fuzz.only.join(',')}` : `${fuzz.count} mutations`}`);

const vitest = await startVitest('test', ['edge/fuzz/ingest-fuzz.worker.test.ts'], {
  run: true,
  project: ['worker'],
  provide: { fuzz },
});
await vitest?.close();
const failed = !vitest || vitest.state.getCountOfFailedTests() > 0 || vitest.state.getUnhandledErrors().length > 0;
if (failed)
  console.log(`fuzz: FAILED (seed ${fuzz.seed}); replay with npm run fuzz -- --seed ${fuzz.seed} --only <index>`);
process.exit(failed ? 1 : 0);
