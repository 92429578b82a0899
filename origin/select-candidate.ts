/** One stored copy of segment K of a track: who published it and what inspection found. */
export interface Candidate {
  pipeline: string;
  region: string;
  defects: string[];
}

/**
 * Deterministic choice among the candidates for one segment: the first defect-free candidate in
 * the configured pipeline order wins; when all are defective, the one with the fewest defects
 * (ties broken by pipeline order) — a defective segment still beats a hole. Candidates from the
 * reading region are preferred over cross-published copies only as a last tie-breaker, so every
 * region answers the same pipeline when both have the same copies.
 */
export function selectCandidate<T extends Candidate>(
  candidates: T[],
  preference: string[],
  localRegion?: string,
): T | undefined {
  const rank = (c: Candidate) => {
    const p = preference.indexOf(c.pipeline);
    return [
      c.defects.length === 0 ? 0 : 1,
      c.defects.length,
      p === -1 ? preference.length : p,
      c.pipeline,
      c.region === localRegion ? 0 : 1,
      c.region,
    ] as const;
  };
  let best: T | undefined;
  for (const c of candidates) if (!best || compare(rank(c), rank(best)) < 0) best = c;
  return best;
}

function compare(a: readonly (number | string)[], b: readonly (number | string)[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/** The `x-candidate` header value: `pipeline=A; region=r1; defects=none`. */
export function candidateHeader(c: Candidate): string {
  return `pipeline=${c.pipeline}; region=${c.region}; defects=${c.defects.length ? c.defects.join(',') : 'none'}`;
}
