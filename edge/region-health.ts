/**
 * Regions this isolate saw fail (an error, or no answer by the deadline), remembered briefly so
 * players do not wait for a dead region on every request; after `downMs` the home region is
 * tried first again, and one good answer clears it at once.
 */
export class RegionHealth {
  private readonly downUntil = new Map<string, number>();
  readonly downMs: number;

  constructor(downMs: number) {
    this.downMs = downMs;
  }

  markDown(region: string, nowMs = Date.now()): void {
    this.downUntil.set(region, nowMs + this.downMs);
  }

  markUp(region: string): void {
    this.downUntil.delete(region);
  }

  isDown(region: string, nowMs = Date.now()): boolean {
    const until = this.downUntil.get(region);
    if (until === undefined) return false;
    if (nowMs < until) return true;
    this.downUntil.delete(region);
    return false;
  }

  /** Regions remembered down now, with until when (for the operator state). */
  snapshot(nowMs = Date.now()): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [region, until] of this.downUntil) if (until > nowMs) out[region] = new Date(until).toISOString();
    return out;
  }
}
