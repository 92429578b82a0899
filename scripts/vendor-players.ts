/**
 * Copy the browser players into public/vendor/ so the player page works with no internet access
 * (the test browser has none). public/vendor/ is gitignored: the copies always match the
 * versions pinned in package-lock.json. Run by `npm start` and `npm test`; safe to run again.
 *
 * Usage: node scripts/vendor-players.ts
 */
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const vendor = join(root, 'public', 'vendor');

interface Player {
  name: string;
  from: string;
  to: string;
  /** Optional players are copied only when their package is installed. */
  optional?: boolean;
}

const players: Player[] = [
  // dash.js 5 ships "modern" (ES2020+, what Chromium runs) and "legacy" builds.
  { name: 'dash.js', from: 'node_modules/dashjs/dist/modern/umd/dash.all.min.js', to: 'dash.all.min.js' },
  { name: 'hls.js', from: 'node_modules/hls.js/dist/hls.min.js', to: 'hls.min.js' },
  {
    name: 'shaka-player',
    from: 'node_modules/shaka-player/dist/shaka-player.compiled.js',
    to: 'shaka-player.compiled.js',
  },
];

mkdirSync(vendor, { recursive: true });
const copied: string[] = [];
const current: string[] = [];
const absent: string[] = [];
for (const p of players) {
  const src = join(root, p.from);
  const dst = join(vendor, p.to);
  if (!existsSync(src)) {
    if (p.optional) {
      absent.push(p.name);
      continue;
    }
    console.error(`vendor-players: ${p.from} is missing; run npm install`);
    process.exit(1);
  }
  // Same size and not older than the source: already the installed version.
  const s = statSync(src);
  const d = existsSync(dst) ? statSync(dst) : undefined;
  if (d && d.size === s.size && d.mtimeMs >= s.mtimeMs) {
    current.push(p.name);
    continue;
  }
  copyFileSync(src, dst);
  copied.push(p.name);
}

const parts = [
  copied.length ? `copied ${copied.join(', ')}` : '',
  current.length ? `up to date: ${current.join(', ')}` : '',
  absent.length ? `not installed: ${absent.join(', ')}` : '',
];
console.log(`vendor-players: ${parts.filter(Boolean).join('; ')} → ${relative(root, vendor)}/`);
