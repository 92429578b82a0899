import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { ensureSystemPackages } from './system-packages.ts';

/**
 * `npm test`: every test (unit, Worker, pipeline, browser) in one vitest run, then one plain line
 * `N passed, N failed` read from vitest's JSON report so CI notices a run that executed nothing.
 */
ensureSystemPackages();
const vendor = spawnSync(process.execPath, ['scripts/vendor-players.ts'], { stdio: 'inherit' });
if (vendor.status !== 0) process.exit(vendor.status ?? 1);

const report = '.tmp/vitest-report.json';
mkdirSync('.tmp', { recursive: true });
rmSync(report, { force: true });
const vitest = spawnSync(
  'node_modules/.bin/vitest',
  ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  {
    stdio: 'inherit',
    env: { ...process.env, PATH: `${process.cwd()}/node_modules/.bin:${process.env.PATH ?? ''}` },
  },
);

let passed = 0;
let failed = 0;
if (existsSync(report)) {
  const json = JSON.parse(readFileSync(report, 'utf8')) as { numPassedTests: number; numFailedTests: number };
  passed = json.numPassedTests;
  failed = json.numFailedTests;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(vitest.status !== 0 || failed > 0 || passed === 0 ? 1 : 0);
