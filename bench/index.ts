/**
 * `npm run bench`: runs every benchmark section and writes BENCHMARKS.md. Each section is a
 * script that prints markdown, measuring the project beside a baseline run in the same script
 * (bare ffmpeg, raw WebCrypto / openssl speed, nginx as a static bucket, trivial Workers on the
 * same workerd). Medians and ratios;
 * these machines are 2-core and noisy, so never read one figure alone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';

const sections = [
  { name: 'encoder bridge', script: 'bench/bridge.ts' },
  { name: 'packager encryption (Node)', script: 'packager/drm/bench.ts' },
  { name: 'packager encryption (workerd)', script: 'bench/drm-workerd.ts' },
  { name: 'origin publish and GET', script: 'bench/origin.ts' },
  { name: 'edge shield', script: 'bench/edge.ts' },
  { name: 'region failover', script: 'bench/failover.ts' },
  { name: 'personalised manifests', script: 'bench/personalised.ts' },
  { name: 'playlist freshness at the edge', script: 'bench/playlist-freshness.ts' },
  { name: 'edge miss and hit', script: 'bench/edge-miss.ts' },
  { name: 'live latency and startup', script: 'bench/latency.ts' },
  { name: 'LL-HLS blocking reload', script: 'bench/ll-hls.ts' },
  { name: 'hub fan-out (Control Room sessions)', script: 'bench/hub-fanout.ts' },
  { name: 'soak (60 minutes, npm run soak)', script: 'bench/soak-60min.md' },
];
/** `npm run bench -- edge failover`: run only the sections whose script names one of these. */
const only = process.argv.slice(2);

/**
 * BENCHMARKS.md keeps each section between markers, so a partial run (`npm run bench -- edge`)
 * replaces only what it measured and leaves the other sections' figures, each with its own date.
 */
const marker = (script: string) => `<!-- bench: ${script} -->`;
const END = '<!-- /bench -->';
function previousSections(): Map<string, string> {
  const kept = new Map<string, string>();
  if (!existsSync('BENCHMARKS.md')) return kept;
  const text = readFileSync('BENCHMARKS.md', 'utf8');
  for (const m of text.matchAll(/<!-- bench: (\S+) -->\n([\s\S]*?)<!-- \/bench -->/g)) kept.set(m[1], m[2]);
  return kept;
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`;
const previous = previousSections();
const parts: string[] = [
  '# Benchmarks',
  '',
  'Written by `npm run bench` (`npm run bench -- <name>` re-runs one section and keeps the others). ' +
    'Every figure stands beside a baseline measured in the same script; quote medians and ratios, not single runs. ' +
    'Each section says when and on what it ran.',
  '',
];
for (const s of sections) {
  let body: string;
  if (only.length > 0 && !only.some((o) => s.script.includes(o))) {
    body = previous.get(s.script) ?? `## ${s.name}\n\nNot measured yet: \`npm run bench -- ${s.script}\`.\n`;
  } else if (!existsSync(s.script)) {
    body = `## ${s.name}\n\nNot measured: \`${s.script}\` does not exist yet.\n`;
  } else if (s.script.endsWith('.md')) {
    // A run too long for `npm run bench` (the 60-minute soak): its report, checked in by hand.
    body = readFileSync(s.script, 'utf8').trim() + '\n';
  } else {
    console.log(`bench: ${s.name} (${s.script}) …`);
    const run = spawnSync(process.execPath, [s.script], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 20 * 60_000,
    });
    body =
      run.status === 0
        ? `${run.stdout.trim()}\n\n_Run on ${new Date().toISOString().slice(0, 10)}, ${machine}._\n`
        : `## ${s.name}\n\nFailed (exit ${run.status}): see the console output of \`npm run bench\`.\n`;
  }
  parts.push(`${marker(s.script)}\n${body.trimEnd()}\n${END}\n`);
}
writeFileSync('BENCHMARKS.md', parts.join('\n'));
console.log('bench: wrote BENCHMARKS.md');
