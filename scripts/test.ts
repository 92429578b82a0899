import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { ensureSystemPackages } from './system-packages.ts';

/**
 * `npm test`: the formatter and linter in check mode, the in-process tests (vitest projects `unit`
 * and `worker`, the same as `npm run test:unit`), then the end-to-end tests (project `e2e`: real
 * `wrangler dev`, ffmpeg, Chromium). Ends with one plain line `N passed, N failed` counting every
 * test of every step, read from vitest's JSON reports so CI notices a run that executed nothing.
 * A skipped test is a check that did not run: it is reported, and under CI it counts as failed.
 *
 * `node scripts/test.ts --unit` (npm run test:unit) runs the in-process step only.
 * Extra arguments go to vitest (e.g. a file filter).
 */
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const vitestArgs = args.filter((a) => a !== '--unit');
const env = { ...process.env, PATH: `${process.cwd()}/node_modules/.bin:${process.env.PATH ?? ''}` };

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  ok: boolean;
}
const total: Counts = { passed: 0, failed: 0, skipped: 0, ok: true };

function step(name: string, command: string, commandArgs: string[]): boolean {
  console.log(`\n=== ${name}: ${command} ${commandArgs.join(' ')}`);
  const run = spawnSync(command, commandArgs, { stdio: 'inherit', env });
  return run.status === 0;
}

function vitest(name: string, projects: string[], extra: string[] = []): void {
  const report = `.tmp/vitest-${name}.json`;
  mkdirSync('.tmp', { recursive: true });
  rmSync(report, { force: true });
  const projectArgs = projects.flatMap((p) => ['--project', p]);
  const ok = step(name, 'node_modules/.bin/vitest', [
    'run',
    ...projectArgs,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    '--passWithNoTests',
    ...extra,
    ...vitestArgs,
  ]);
  if (!existsSync(report)) {
    total.ok = false;
    total.failed++;
    console.log(`${name}: no report written`);
    return;
  }
  const json = JSON.parse(readFileSync(report, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
  };
  total.passed += json.numPassedTests;
  total.failed += json.numFailedTests;
  total.skipped += json.numPendingTests + json.numTodoTests;
  if (!ok) total.ok = false;
}

if (!unitOnly) ensureSystemPackages();
if (!step('format and lint', 'node_modules/.bin/biome', ['check', '--error-on-warnings', '.'])) {
  total.ok = false;
  total.failed++;
  console.log('format or lint drift: run `npm run format` (counted as one failure)');
}
if (
  !step('Env types', 'node_modules/.bin/wrangler', [
    'types',
    '--include-runtime=false',
    '--strict-vars=false',
    '--check',
  ])
) {
  total.ok = false;
  total.failed++;
  console.log('worker-configuration.d.ts is stale: run `npm run types` (counted as one failure)');
}
// Two at once: the Node files and the workerd files overlap (the latter mostly wait on timers);
// the end-to-end files run one at a time (they share one live event and the machine).
vitest('in-process', ['unit', 'worker'], ['--maxWorkers=2']);
if (!unitOnly) {
  const vendor = spawnSync(process.execPath, ['scripts/vendor-players.ts'], { stdio: 'inherit' });
  if (vendor.status !== 0) process.exit(vendor.status ?? 1);
  vitest('end-to-end', ['e2e']);
}

const skippedFail = process.env.CI ? total.skipped : 0;
if (total.skipped > 0) {
  console.log(
    `${total.skipped} skipped (a check that could not run${process.env.CI ? '; counted as failed under CI' : ''})`,
  );
}
const failed = total.failed + skippedFail;
console.log(`${total.passed} passed, ${failed} failed`);
process.exit(!total.ok || failed > 0 || total.passed === 0 ? 1 : 0);
