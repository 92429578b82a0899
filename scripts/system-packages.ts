import { execFileSync, spawnSync } from 'node:child_process';

/**
 * The Debian packages the local pipeline and the tests need, and the command that proves each is
 * there. Installed with apt-get when we are root on Debian; otherwise we say what to install.
 */
const required = [
  { pkg: 'ffmpeg', check: ['ffmpeg', '-version'] },
  { pkg: 'chromium', check: ['chromium', '--version'] },
  { pkg: 'libxml2-utils', check: ['xmllint', '--version'] },
  { pkg: 'fonts-dejavu-core', check: ['test', '-e', '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'] },
];

function present(check: string[]): boolean {
  return spawnSync(check[0], check.slice(1), { stdio: 'ignore' }).status === 0;
}

export function ensureSystemPackages(): void {
  const missing = required.filter((r) => !present(r.check)).map((r) => r.pkg);
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!isRoot || !hasApt) {
    console.error(
      `missing system packages: ${missing.join(' ')} — install them with: sudo apt-get install -y ${missing.join(' ')}`,
    );
    process.exit(1);
  }
  console.log(`installing system packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
}

if (import.meta.url === `file://${process.argv[1]}`) ensureSystemPackages();
