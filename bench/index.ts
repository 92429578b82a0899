/**
 * `npm run bench`: runs every benchmark section and writes BENCHMARKS.md. Each section is a
 * script that prints markdown, measuring the project beside a baseline run in the same script
 * (bare ffmpeg, raw WebCrypto / openssl speed, nginx as a static bucket, trivial Workers on the
 * same workerd). Medians and ratios;
 * these machines are 2-core and noisy, so never read one figure alone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';

const sections = [
  { name: 'encoder bridge', script: 'bench/bridge.ts' },
  { name: 'packager encryption (Node)', script: 'packager/drm/bench.ts' },
  { name: 'packager encryption (workerd)', script: 'bench/drm-workerd.ts' },
  { name: 'origin publish and GET', script: 'bench/origin.ts' },
  { name: 'edge shield', script: 'bench/edge.ts' },
  { name: 'region failover', script: 'bench/failover.ts' },
  { name: 'personalised manifests', script: 'bench/personalised.ts' },
  { name: 'live latency and startup', script: 'bench/latency.ts' },
];
const only = process.argv.slice(2);

const parts: string[] = [
  '# Benchmarks',
  '',
  `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}. ` +
    'Every figure stands beside a baseline measured in the same script; quote medians and ratios, not single runs.',
  '',
];
for (const s of sections) {
  if (only.length > 0 && !only.some((o) => s.script.includes(o))) continue;
  if (!existsSync(s.script)) {
    parts.push(`## ${s.name}\n\nNot measured: \`${s.script}\` does not exist yet.\n`);
    continue;
  }
  console.log(`bench: ${s.name} (${s.script}) …`);
  const run = spawnSync(process.execPath, [s.script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 20 * 60_000,
  });
  parts.push(
    run.status === 0
      ? run.stdout.trim() + '\n'
      : `## ${s.name}\n\nFailed (exit ${run.status}): see the console output of \`npm run bench\`.\n`,
  );
}
writeFileSync('BENCHMARKS.md', parts.join('\n'));
console.log('bench: wrote BENCHMARKS.md');
