import type { Mask } from '../contract/operator.ts';
import type { Run } from './segment-index.ts';

export interface ListedSegments {
  /** Earliest K listed by any track; undefined when no track has anything to list. */
  firstSegment: number | undefined;
  lastSegmentByTrack: Record<string, number>;
  gapsByTrack: Record<string, number[]>;
}

/**
 * What each track's manifest lists inside [startK, endK], from the stored runs of every pipeline
 * (origin/segment-index.ts) with operator masks taken out: a K whose only copies are masked is
 * as good as missing. Every track is listed from the earliest K of any track; a hole before a
 * track's newest K is a gap (HLS EXT-X-GAP) when `gone(track, K)` says K will never come, and
 * otherwise ends that track's list just before it (a merely late K must not be skipped by
 * players for good).
 *
 * `gone` must be monotonic in K (gone for K implies gone for every earlier K), which the
 * live-edge rules are (origin/segment-timing.ts): each hole is then decided with a binary search,
 * so the work is O(tracks × pipelines × (runs + masks)), never O(K in the window).
 */
export function listedSegments(
  tracks: Iterable<readonly [track: string, runsByPipeline: ReadonlyMap<string, readonly Run[]>]>,
  masks: readonly Mask[],
  startK: number,
  endK: number,
  gone: (track: string, k: number) => boolean,
): ListedSegments {
  const available = new Map<string, Run[]>();
  for (const [track, byPipeline] of tracks) {
    const runs: Run[] = [];
    for (const [pipeline, pipelineRuns] of byPipeline) {
      const hidden = masks.filter((m) => m.pipeline === pipeline);
      for (const r of pipelineRuns) {
        const from = Math.max(r.from, startK);
        const to = Math.min(r.to, endK);
        if (from <= to) runs.push(...subtract({ from, to }, hidden));
      }
    }
    const merged = union(runs);
    if (merged.length) available.set(track, merged);
  }
  let firstSegment: number | undefined;
  for (const runs of available.values()) firstSegment = Math.min(firstSegment ?? runs[0].from, runs[0].from);
  const lastSegmentByTrack: Record<string, number> = {};
  const gapsByTrack: Record<string, number[]> = {};
  if (firstSegment === undefined) return { firstSegment, lastSegmentByTrack, gapsByTrack };
  for (const [track, runs] of available) {
    let last = runs[runs.length - 1].to;
    const gaps: number[] = [];
    let expected = firstSegment;
    for (const run of runs) {
      if (run.from > expected) {
        // The hole [expected, run.from − 1].
        const notGone = firstNotGone(expected, run.from - 1, (k) => gone(track, k));
        for (let k = expected; k < notGone; k++) gaps.push(k);
        if (notGone < run.from) {
          last = notGone - 1;
          break;
        }
      }
      expected = run.to + 1;
    }
    if (last < firstSegment) continue;
    lastSegmentByTrack[track] = last;
    if (gaps.length) gapsByTrack[track] = gaps;
  }
  return { firstSegment, lastSegmentByTrack, gapsByTrack };
}

/** The smallest K in [from, to] that is not gone, or to + 1 when all are. */
function firstNotGone(from: number, to: number, gone: (k: number) => boolean): number {
  if (gone(to)) return to + 1;
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (gone(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `run` without the K that any of `masks` covers. */
function subtract(run: Run, masks: readonly Mask[]): Run[] {
  let pieces = [run];
  for (const m of masks) {
    const to = m.toK ?? Number.MAX_SAFE_INTEGER;
    pieces = pieces.flatMap((p) => {
      if (to < p.from || m.fromK > p.to) return [p];
      const out: Run[] = [];
      if (p.from < m.fromK) out.push({ from: p.from, to: m.fromK - 1 });
      if (p.to > to) out.push({ from: to + 1, to: p.to });
      return out;
    });
  }
  return pieces;
}

/** Sorted, merged runs (overlapping or adjacent ones joined). */
function union(runs: Run[]): Run[] {
  const sorted = [...runs].sort((a, b) => a.from - b.from);
  const out: Run[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else out.push({ ...r });
  }
  return out;
}
