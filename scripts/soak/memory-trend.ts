import type { ProcessMemory } from './process-memory.ts';

export interface MemorySample {
  /** ms since the players started. */
  t: number;
  procs: ProcessMemory[];
}

export interface MemoryTrend {
  label: string;
  /** RSS when warm-up ended (median of the first three samples after it), MB. */
  warmMb: number;
  /** RSS at the end (median of the last three samples), MB. */
  endMb: number;
  maxMb: number;
  growthMb: number;
  /** Least-squares slope over the samples after warm-up, MB per hour. */
  slopeMbPerHour: number;
  /** Growth after warm-up within max(8 MB, 10 %): what "flat" means here. */
  flat: boolean;
  /** Times the process under this name was replaced (new pid): a restarted ffmpeg starts small again. */
  restarts: number;
}

const FLAT_ABSOLUTE_MB = 8;
const FLAT_SHARE = 0.1;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? Number.NaN
    : s.length % 2
      ? s[(s.length - 1) / 2]
      : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Per process: memory after warm-up against the end of the run. */
export function memoryTrends(samples: MemorySample[], warmupMs: number): MemoryTrend[] {
  const labels = [...new Set(samples.flatMap((s) => s.procs.map((p) => p.label)))].sort();
  return labels.map((label) => {
    const series = samples
      .map((s) => ({ t: s.t, p: s.procs.find((p) => p.label === label) }))
      .filter((x): x is { t: number; p: ProcessMemory } => x.p !== undefined);
    const pids = series.map((x) => x.p.pid);
    const restarts = pids.filter((pid, i) => i > 0 && pid !== pids[i - 1]).length;
    const after = series.filter((x) => x.t >= warmupMs);
    const use = after.length >= 2 ? after : series;
    const mb = use.map((x) => x.p.rssKb / 1024);
    const warmMb = median(mb.slice(0, 3));
    const endMb = median(mb.slice(-3));
    const growthMb = endMb - warmMb;
    return {
      label,
      warmMb,
      endMb,
      maxMb: Math.max(...series.map((x) => x.p.rssKb / 1024)),
      growthMb,
      slopeMbPerHour: slope(
        use.map((x) => x.t / 3_600_000),
        mb,
      ),
      flat: growthMb <= Math.max(FLAT_ABSOLUTE_MB, FLAT_SHARE * warmMb),
      restarts,
    };
  });
}

function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
