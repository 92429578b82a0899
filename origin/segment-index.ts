/** A closed range of segment numbers, every one of them stored. */
export interface Run {
  from: number;
  to: number;
}

/**
 * Which segment numbers are stored, per track and pipeline, as runs of consecutive K: what
 * manifests and the "has every pipeline moved past K" evidence need, without a query per K.
 * A two-hour window is 3,600 K per track, but only as many runs as there are holes, so a
 * manifest costs O(tracks × pipelines × holes) whatever the window and however long the holes.
 *
 * Derived from the candidates table (one query when the object starts) and kept in step with
 * it by the origin after each write commits: SQLite stays the truth.
 */
export class SegmentIndex {
  /** track → pipeline → sorted, disjoint, non-adjacent runs. */
  private readonly byTrack = new Map<string, Map<string, Run[]>>();

  /** Build from the stored candidates (every region's copy counts once). */
  static load(sql: SqlStorage): SegmentIndex {
    const index = new SegmentIndex();
    // Gaps and islands: consecutive K of one (track, pipeline) share k − row_number.
    const rows = sql.exec<{ track: string; pipeline: string; lo: number; hi: number }>(
      `SELECT track, pipeline, MIN(k) AS lo, MAX(k) AS hi FROM (
         SELECT track, pipeline, k, k - ROW_NUMBER() OVER (PARTITION BY track, pipeline ORDER BY k) AS island
         FROM (SELECT DISTINCT track, pipeline, k FROM candidates))
       GROUP BY track, pipeline, island ORDER BY track, pipeline, lo`,
    );
    for (const r of rows) index.runsFor(r.track, r.pipeline).push({ from: r.lo, to: r.hi });
    return index;
  }

  add(track: string, pipeline: string, k: number): void {
    const runs = this.runsFor(track, pipeline);
    const last = runs[runs.length - 1];
    // The common case: the next segment at the live edge.
    if (last && k === last.to + 1) {
      last.to = k;
      return;
    }
    if (last && k > last.to + 1) {
      runs.push({ from: k, to: k });
      return;
    }
    // First run whose end reaches k − 1 (k may extend it, sit inside it, or come before it).
    let lo = 0;
    let hi = runs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (runs[mid].to < k - 1) lo = mid + 1;
      else hi = mid;
    }
    const run = runs[lo];
    if (!run || k < run.from - 1) {
      runs.splice(lo, 0, { from: k, to: k });
      return;
    }
    run.from = Math.min(run.from, k);
    run.to = Math.max(run.to, k);
    const next = runs[lo + 1];
    if (next && next.from <= run.to + 1) {
      run.to = Math.max(run.to, next.to);
      runs.splice(lo + 1, 1);
    }
  }

  /** Forget every K outside [fromK, toK] (what eviction deleted). */
  keepOnly(fromK: number, toK = Number.MAX_SAFE_INTEGER): void {
    for (const [track, pipelines] of this.byTrack) {
      for (const [pipeline, runs] of pipelines) {
        const kept = runs
          .filter((r) => r.to >= fromK && r.from <= toK)
          .map((r) => ({ from: Math.max(r.from, fromK), to: Math.min(r.to, toK) }));
        if (kept.length) pipelines.set(pipeline, kept);
        else pipelines.delete(pipeline);
      }
      if (pipelines.size === 0) this.byTrack.delete(track);
    }
  }

  /** Newest K stored from `pipeline` for `track`. */
  newest(track: string, pipeline: string): number | undefined {
    const runs = this.byTrack.get(track)?.get(pipeline);
    return runs?.[runs.length - 1]?.to;
  }

  /** The runs of every pipeline that stored segments of `track`. */
  pipelinesOf(track: string): ReadonlyMap<string, readonly Run[]> {
    return this.byTrack.get(track) ?? new Map();
  }

  tracks(): string[] {
    return [...this.byTrack.keys()];
  }

  private runsFor(track: string, pipeline: string): Run[] {
    let pipelines = this.byTrack.get(track);
    if (!pipelines) {
      pipelines = new Map();
      this.byTrack.set(track, pipelines);
    }
    let runs = pipelines.get(pipeline);
    if (!runs) {
      runs = [];
      pipelines.set(pipeline, runs);
    }
    return runs;
  }
}
