import { execFileSync, spawnSync } from 'node:child_process';

/**
 * The load tools the HTTP benchmarks need (Debian packages: `wrk`, `nginx`), installed the way
 * scripts/system-packages.ts installs the pipeline's: with apt-get when we are root on Debian;
 * otherwise the run stops and says what to install.
 */
const tools: Record<string, { pkg: string; check: string[] }> = {
  wrk: { pkg: 'wrk', check: ['wrk', '--version'] },
  nginx: { pkg: 'nginx', check: ['nginx', '-v'] },
};

function present(check: string[]): boolean {
  // `wrk --version` exits 1 after printing its version: only "not found" matters.
  const run = spawnSync(check[0], check.slice(1), { stdio: 'ignore' });
  return run.error === undefined;
}

export function ensureBenchTools(names: (keyof typeof tools)[]): void {
  const missing = names.filter((n) => !present(tools[n].check)).map((n) => tools[n].pkg);
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!isRoot || !hasApt) {
    console.error(
      `bench: missing system packages: ${missing.join(' ')} — install them with: sudo apt-get install -y ${missing.join(' ')}`,
    );
    process.exit(1);
  }
  console.error(`bench: installing system packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 2, 2], env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: ['ignore', 2, 2],
    env,
  });
}
