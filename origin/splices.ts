import type { Splice } from '../contract/splices.ts';

/** Why a splice was not stored: another splice already has its id. */
export type SpliceRefusal = { conflict: Splice };

/**
 * The ad breaks (contract/splices.ts) of one event in its origin object's SQLite, mirrored in
 * memory because every manifest reads them. Keyed by splice_event_id: the same splice posted again
 * (a retry, the other pipeline, the other region's copy) is stored once; a different splice with
 * the same id is refused rather than silently moving a break players may already have seen.
 */
export class SpliceStore {
  private readonly sql: SqlStorage;
  private splices: Splice[];

  constructor(sql: SqlStorage) {
    this.sql = sql;
    this.splices = sql
      .exec<{ id: number; out_at: number; duration_ms: number; source: string; scte35: string }>(
        'SELECT id, out_at, duration_ms, source, scte35 FROM splices ORDER BY out_at, id',
      )
      .toArray()
      .map((r) => ({
        id: r.id,
        outAt: r.out_at,
        durationMs: r.duration_ms,
        source: r.source as Splice['source'],
        scte35: r.scte35,
      }));
  }

  /**
   * Store `splice`; `added` false when it was already stored (the stored one is answered). Two
   * splices are the same when they break at the same time for the same duration: which source
   * came first, and its section's bytes, stay.
   */
  add(splice: Splice, nowMs: number): { splice: Splice; added: boolean } | SpliceRefusal {
    const stored = this.splices.find((s) => s.id === splice.id);
    if (stored) {
      const same = stored.outAt === splice.outAt && stored.durationMs === splice.durationMs;
      return same ? { splice: stored, added: false } : { conflict: stored };
    }
    this.sql.exec(
      'INSERT INTO splices (id, out_at, duration_ms, source, scte35, received_at) VALUES (?, ?, ?, ?, ?, ?)',
      splice.id,
      splice.outAt,
      splice.durationMs,
      splice.source,
      splice.scte35,
      nowMs,
    );
    this.splices = [...this.splices, splice].sort((a, b) => a.outAt - b.outAt || a.id - b.id);
    return { splice, added: true };
  }

  /** Every splice, earliest first. */
  all(): Splice[] {
    return this.splices;
  }

  /** Forget breaks that ended before `beforeMs` (the DVR window's start). */
  evict(beforeMs: number): void {
    if (!this.splices.some((s) => s.outAt + s.durationMs <= beforeMs)) return;
    this.sql.exec('DELETE FROM splices WHERE out_at + duration_ms <= ?', beforeMs);
    this.splices = this.splices.filter((s) => s.outAt + s.durationMs > beforeMs);
  }
}
