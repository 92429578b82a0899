/**
 * The newest stored segment bytes, kept in the origin object's memory so that the GETs that
 * follow a publish (the readable check, held live-edge requests, every player of the live edge)
 * are answered without reading and joining the SQLite chunks again. SQLite stays the truth: an
 * entry is only used when its SHA-256 matches the candidate row being served, and a miss (object
 * restarted, entry evicted) reads the chunks as before.
 *
 * Bounded by bytes, oldest stored first out: the live edge is what is hot, DVR reads go to SQLite.
 */
export const HOT_SEGMENT_BYTES = 32 * 1024 * 1024;

type Bytes = Uint8Array<ArrayBuffer>;

interface Entry {
  k: number;
  sha256: string;
  bytes: Bytes;
}

export class HotSegments {
  private readonly entries = new Map<string, Entry>();
  private readonly maxBytes: number;
  private total = 0;

  constructor(maxBytes = HOT_SEGMENT_BYTES) {
    this.maxBytes = maxBytes;
  }

  /** Bytes held now (for tests and operators). */
  get size(): number {
    return this.total;
  }

  /** Keep `bytes` (owned by the caller, never changed afterwards) as the copy of `key`. */
  put(key: string, k: number, sha256: string, bytes: Bytes): void {
    this.delete(key);
    // One segment may not push out the whole live edge.
    if (bytes.byteLength > this.maxBytes / 4) return;
    this.entries.set(key, { k, sha256, bytes });
    this.total += bytes.byteLength;
    for (const [oldest, e] of this.entries) {
      if (this.total <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.total -= e.bytes.byteLength;
    }
  }

  /** The bytes of `key` if held and they are the ones whose hash is `sha256`. */
  get(key: string, sha256: string): Bytes | undefined {
    const e = this.entries.get(key);
    return e && e.sha256 === sha256 ? e.bytes : undefined;
  }

  delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.total -= e.bytes.byteLength;
  }

  /** Drop every segment before `k` (DVR eviction deleted their rows). */
  evictBefore(k: number): void {
    for (const [key, e] of this.entries) if (e.k < k) this.delete(key);
  }
}
