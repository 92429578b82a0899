/**
 * An answer as the edge keeps it: enough to build the Response again for every player, with the
 * exact freshness in milliseconds (Cloudflare's own cache only knows whole seconds).
 */
export interface CachedAnswer {
  status: number;
  headers: [string, string][];
  body: Uint8Array | null;
  /** UTC ms until which the answer is fresh. */
  freshUntil: number;
  /** UTC ms until which a stale copy may be served while one request refreshes it (≥ freshUntil). */
  staleUntil: number;
}

/**
 * The in-isolate layer of the edge cache: a least-recently-used map bounded by bytes, so the
 * newest segments and manifests of the busiest events stay in memory (an isolate has 128 MB).
 * Answers past their stale time are dropped when met.
 */
export class HotCache {
  private readonly entries = new Map<string, CachedAnswer>();
  private bytes = 0;

  private readonly maxBytes: number;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get(key: string, nowMs: number): CachedAnswer | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (nowMs >= entry.staleUntil) {
      this.delete(key);
      return undefined;
    }
    // Touch: a Map iterates in insertion order, so re-inserting makes it the newest.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  put(key: string, entry: CachedAnswer): void {
    const size = sizeOf(entry);
    if (size > this.maxBytes / 4) return; // one huge answer must not flush everything else
    this.delete(key);
    this.entries.set(key, entry);
    this.bytes += size;
    for (const oldest of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.delete(oldest);
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= sizeOf(entry);
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}

function sizeOf(entry: CachedAnswer): number {
  return (entry.body?.byteLength ?? 0) + 256 + entry.headers.reduce((n, [k, v]) => n + k.length + v.length, 0);
}
