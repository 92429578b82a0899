/**
 * How many times players' requests for each segment reached this origin object: the proof that
 * the edge shield works (one request per (track, K) per edge isolate, whatever the audience).
 * Bounded: the newest `max` segments asked for are kept.
 */
export class RequestCounts {
  private readonly counts = new Map<string, number>();
  private total = 0;
  private readonly max: number;

  constructor(max = 500) {
    this.max = max;
  }

  add(track: string, k: number): void {
    const key = `${track}/${k}`;
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.delete(key);
    this.counts.set(key, n);
    this.total++;
    if (this.counts.size > this.max) this.counts.delete(this.counts.keys().next().value!);
  }

  /** `{"v1/885000001": 1, …}` for the newest segments asked for, and the total since the object started. */
  view(): { total: number; bySegment: Record<string, number> } {
    return { total: this.total, bySegment: Object.fromEntries(this.counts) };
  }
}
