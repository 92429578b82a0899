import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time of running processes from /proc (Linux): which processes serve a benchmark target, and
 * how many CPU seconds they used, so a figure can say what one request costs the server whatever
 * else loads the machine (throughput on a shared 2-core machine moves with the load; CPU per
 * request much less).
 */
export interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime, seconds. */
  cpu: number;
}

const TICKS = 100;

function read(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // after "pid (comm) ": state [0], ppid [1], …, utime [11], stime [12]
    return { pid, ppid: Number(f[1]), comm, cpu: (Number(f[11]) + Number(f[12])) / TICKS };
  } catch {
    return undefined; // exited
  }
}

export function processes(): Proc[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => read(Number(d)))
    .filter((p): p is Proc => p !== undefined);
}

/** Every process below `root` (not `root` itself). */
export function descendants(root: number, all = processes()): Proc[] {
  const out: Proc[] = [];
  const parents = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) {
      if (parents.has(p.ppid) && !parents.has(p.pid)) {
        parents.add(p.pid);
        out.push(p);
        grew = true;
      }
    }
  }
  return out;
}

/**
 * A running process's own CPU seconds (utime + stime) and its reaped children's (cutime + cstime):
 * a bridge's Node process and the ffmpeg runs it has waited for, apart.
 */
export function ownAndChildrenCpu(pid: number): { own: number; children: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // after "pid (comm) ": utime [11], stime [12], cutime [13], cstime [14]
    return { own: (Number(f[11]) + Number(f[12])) / TICKS, children: (Number(f[13]) + Number(f[14])) / TICKS };
  } catch {
    return undefined; // exited
  }
}

/** CPU seconds of these pids now (those that exited count 0). */
export function cpuOf(pids: number[]): number {
  return pids.reduce((s, pid) => s + (read(pid)?.cpu ?? 0), 0);
}

/**
 * Bytes a running process has read so far (rchar of /proc/<pid>/io: every read(2), pipes
 * included), undefined once it has exited: how far an ffmpeg reading a feed on stdin has got,
 * whatever the socket and pipe buffers in front of it hold.
 */
export function bytesRead(pid: number): number | undefined {
  try {
    return Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1]);
  } catch {
    return undefined; // exited
  }
}
