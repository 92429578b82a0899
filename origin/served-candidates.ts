/**
 * Which pipeline's candidates this origin object served to players (the edge's misses: each edge
 * asks once per segment and keeps the answer), and the pipeline of the newest segment served: the
 * hub shows them as "candidates served by pipeline" and "active candidate" (docs/control-plane.md).
 * Counts since the object started; memory only (a restart starts them again).
 */
export class ServedCandidates {
  private readonly byPipeline = new Map<string, number>();
  private newest: { k: number; pipeline: string } | null = null;

  record(pipeline: string, k: number): void {
    this.byPipeline.set(pipeline, (this.byPipeline.get(pipeline) ?? 0) + 1);
    // The newest K decides; among answers for the same K the latest one (a mask may have moved it).
    if (this.newest === null || k >= this.newest.k) this.newest = { k, pipeline };
  }

  view(): { servedByPipeline: Record<string, number>; activeCandidate: { pipeline: string; k: number } | null } {
    return {
      servedByPipeline: Object.fromEntries(this.byPipeline),
      activeCandidate: this.newest && { ...this.newest },
    };
  }
}
