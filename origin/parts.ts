/**
 * Chunked CMAF parts at the live edge (docs/latency.md): what the origin object keeps of each
 * (track, K, n) per pipeline, in memory only. Parts matter for a few segments after they are made
 * (LL-HLS lists them for the newest segments; the whole segment, stored durably, replaces them),
 * so an object that restarts simply starts listing parts again from the next one published.
 */

export interface StoredPart {
  pipeline: string;
  bytes: Uint8Array<ArrayBuffer>;
  /** Seconds (the sum of the part's sample durations). */
  durationS: number;
  /** Starts with a sync sample: a player may start here (EXT-X-PART INDEPENDENT=YES). */
  independent: boolean;
  receivedAt: number;
}

/** One part as playlists list it: the preferred pipeline's copy. */
export interface PartEntry {
  k: number;
  n: number;
  durationS: number;
  independent: boolean;
}

/** Segments of parts kept per track behind the newest: LL-HLS lists parts of the last three target durations. */
export const KEPT_SEGMENTS = 4;

export class PartStore {
  /** track → K → n → pipeline → part. */
  private readonly tracks = new Map<string, Map<number, Map<number, Map<string, StoredPart>>>>();

  /** Store a pipeline's part; false when that pipeline already stored this part (a retried PUT). */
  put(track: string, k: number, n: number, part: StoredPart): boolean {
    let segments = this.tracks.get(track);
    if (!segments) this.tracks.set(track, (segments = new Map()));
    let parts = segments.get(k);
    if (!parts) segments.set(k, (parts = new Map()));
    let copies = parts.get(n);
    if (!copies) parts.set(n, (copies = new Map()));
    const fresh = !copies.has(part.pipeline);
    copies.set(part.pipeline, part);
    const newest = Math.max(...segments.keys());
    for (const old of segments.keys()) if (old < newest - KEPT_SEGMENTS + 1) segments.delete(old);
    return fresh;
  }

  /** The copy of part n of K to serve: the first pipeline in `order` that `allowed` lets through. */
  get(track: string, k: number, n: number, order: string[], allowed: (pipeline: string) => boolean) {
    const copies = this.tracks.get(track)?.get(k)?.get(n);
    if (!copies) return undefined;
    const ranked = [...copies.values()]
      .filter((p) => allowed(p.pipeline))
      .sort((a, b) => rank(order, a.pipeline) - rank(order, b.pipeline) || a.pipeline.localeCompare(b.pipeline));
    return ranked[0];
  }

  /**
   * The parts a playlist lists for `track`, oldest first: per kept K, parts 0, 1, … up to the first
   * one missing (a player must never be told of part n+1 before part n exists).
   */
  list(track: string, order: string[], allowed: (pipeline: string, k: number) => boolean): PartEntry[] {
    const segments = this.tracks.get(track);
    if (!segments) return [];
    const out: PartEntry[] = [];
    for (const k of [...segments.keys()].sort((a, b) => a - b)) {
      for (let n = 0; ; n++) {
        const part = this.get(track, k, n, order, (p) => allowed(p, k));
        if (!part) break;
        out.push({ k, n, durationS: part.durationS, independent: part.independent });
      }
    }
    return out;
  }

  /** The newest part listed for `track` (K, n), or undefined when it has none. */
  latest(track: string, order: string[], allowed: (pipeline: string, k: number) => boolean): PartEntry | undefined {
    const all = this.list(track, order, allowed);
    return all[all.length - 1];
  }

  tracksWithParts(): string[] {
    return [...this.tracks.keys()];
  }
}

function rank(order: string[], pipeline: string): number {
  const i = order.indexOf(pipeline);
  return i === -1 ? order.length : i;
}
