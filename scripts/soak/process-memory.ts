/**
 * Memory of every process the soak started, from /proc: the tree under the soak's own process
 * (wrangler and its workerd, each bridge and its ffmpeg, the source and its ffmpegs, the
 * captioner), each named by what it is rather than by pid, so a restarted ffmpeg keeps its row.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  argv: string[];
  /** User + system CPU time so far, seconds. */
  cpuS?: number;
}

export interface ProcessMemory {
  label: string;
  pid: number;
  /** VmRSS: resident memory, shared file pages included. */
  rssKb: number;
  /** RssAnon: the process's own heap and stacks, where a leak shows. */
  anonKb: number;
  /** User + system CPU time so far, seconds (with the memory: which process is the bottleneck). */
  cpuS: number;
}

/** Linux reports CPU times in clock ticks of 1/100 s (USER_HZ) on every architecture we run on. */
const TICKS_PER_S = 100;

/** Every process below `root` (and root itself), from /proc. */
export function processTree(root: number): ProcessInfo[] {
  const all: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // comm is in parentheses and may contain spaces: the fields after its last ')' are fixed.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
      const ppid = Number(fields[1]);
      const cpuS = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      all.push({ pid: Number(name), ppid, argv, cpuS });
    } catch {
      // gone while we looked
    }
  }
  const children = new Map<number, ProcessInfo[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: ProcessInfo[] = [];
  const self = all.find((p) => p.pid === root);
  const walk = (p: ProcessInfo) => {
    out.push(p);
    for (const c of children.get(p.pid) ?? []) walk(c);
  };
  if (self) walk(self);
  return out;
}

/** A name for a process whose command line contains `argvIncludes` (which workerd is which). */
export interface LabelHint {
  argvIncludes: string;
  label: string;
}

/**
 * Names for the processes of a tree: `bridge A`, `bridge A ffmpeg`, `source`, `source ffmpeg`,
 * `workerd`, … Processes with the same name get `#2`, `#3` in pid order. Tools nobody asked about
 * (the shell wrangler runs esbuild under, `nice`) keep their program name.
 */
export function labelProcesses(tree: ProcessInfo[], root: number, hints: LabelHint[] = []): Map<number, string> {
  const byPid = new Map(tree.map((p) => [p.pid, p]));
  const own = (p: ProcessInfo): string | undefined => {
    if (p.pid === root) return 'soak (players)';
    const args = p.argv.join(' ');
    const program = (p.argv[0] ?? '').split('/').at(-1) ?? '';
    if (args.includes('encoder-bridge/main.ts')) {
      const i = p.argv.indexOf('--pipeline');
      return `bridge ${i >= 0 ? p.argv[i + 1] : '?'}`;
    }
    if (args.includes('synthetic-source.ts')) return 'source';
    if (args.includes('synthetic-captions.ts')) return 'captioner';
    if (program === 'workerd' || args.includes('/workerd '))
      return hints.find((h) => args.includes(h.argvIncludes))?.label ?? 'workerd';
    if (args.includes('wrangler') && args.includes(' dev')) return 'wrangler';
    if (program === 'ffmpeg') return 'ffmpeg';
    return undefined;
  };
  const labels = new Map<number, string>();
  for (const p of tree) {
    const name = own(p) ?? ((p.argv[0] ?? '?').split('/').at(-1) || '?');
    // ffmpeg is named after the process that runs it (bridge A ffmpeg, source ffmpeg).
    let owner = byPid.get(p.ppid);
    while (owner && name === 'ffmpeg' && !own(owner)) owner = byPid.get(owner.ppid);
    const ownerName = owner ? own(owner) : undefined;
    labels.set(p.pid, name === 'ffmpeg' && ownerName && ownerName !== 'soak (players)' ? `${ownerName} ffmpeg` : name);
  }
  const seen = new Map<string, number>();
  for (const p of [...tree].sort((a, b) => a.pid - b.pid)) {
    const base = labels.get(p.pid)!;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    if (n > 1) labels.set(p.pid, `${base} #${n}`);
  }
  return labels;
}

function statusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Memory of every process under `root` now. Short-lived helpers without memory (exited) are left out. */
export function sampleMemory(root: number = process.pid, hints: LabelHint[] = []): ProcessMemory[] {
  const tree = processTree(root);
  const labels = labelProcesses(tree, root, hints);
  return tree
    .map((p) => ({
      label: labels.get(p.pid)!,
      pid: p.pid,
      rssKb: statusKb(p.pid, 'VmRSS'),
      anonKb: statusKb(p.pid, 'RssAnon'),
      cpuS: p.cpuS ?? 0,
    }))
    .filter((m) => m.rssKb > 0)
    .sort((a, b) => a.label.localeCompare(b.label));
}
