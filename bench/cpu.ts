import { readFileSync } from 'node:fs';

/**
 * CPU seconds used by this process's reaped descendants (cutime + cstime from /proc/self/stat).
 * A child's own reaped children count too, so a bridge and the ffmpeg it ran are measured
 * together, exactly like a bare ffmpeg run.
 */
export function childCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // after "pid (comm) ": state is field 3 → index 0; cutime is field 16 → index 13, cstime 17 → 14
  const ticksPerSecond = 100;
  return (Number(fields[13]) + Number(fields[14])) / ticksPerSecond;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
