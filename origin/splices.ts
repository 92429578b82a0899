import type { Splice } from '../contract/splices.ts';

/** Why a splice was not stored: another splice already has its id. */
export type SpliceRefusal = { conflict: Splice };

/** A stored splice as operators see it (the event state): when this origin first received it. */
export type ReceivedSplice = Splice & { receivedAt: string };

/**
 * The ad breaks (contract/splices.ts) of one event in its origin object's SQLite, mirrored in
 * memory because every manifest reads them. Keyed by splice_event_id: the same splice posted again
 * (a retry, the other pipeline, the other region's copy) is stored once; a different splice with
 * the same id is refused rather than silently moving a break players may already have seen.
 */
export class SpliceStore {
  private readonly sql: SqlStorage;
  private splices: Splice[];
  /** received_at by id: shown to operators only, so kept beside the splices manifests read. */
  private readonly receivedAt = new Map<number, number>();

  constructor(sql: SqlStorage) {
    this.sql = sql;
    const rows = sql
      .exec<{ id: number; out_at: number; duration_ms: number; source: string; scte35: string; received_at: number }>(
        'SELECT id, out_at, duration_ms, source, scte35, received_at FROM splices ORDER BY out_at, id',
      )
      .toArray();
    this.splices = rows.map((r) => ({
      id: r.id,
      outAt: r.out_at,
      durationMs: r.duration_ms,
      source: r.source as Splice['source'],
      scte35: r.scte35,
    }));
    for (const r of rows) this.receivedAt.set(r.id, r.received_at);
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
    this.receivedAt.set(splice.id, nowMs);
    return { splice, added: true };
  }

  /** Every splice, earliest first. */
  all(): Splice[] {
    return this.splices;
  }

  /** Every splice with the time this origin first received it (a retry or the other pipeline's copy changes nothing). */
  received(): ReceivedSplice[] {
    return this.splices.map((s) => ({ ...s, receivedAt: new Date(this.receivedAt.get(s.id) ?? 0).toISOString() }));
  }

  /** Forget breaks that ended before `beforeMs` (the DVR window's start). */
  evict(beforeMs: number): void {
    if (!this.splices.some((s) => s.outAt + s.durationMs <= beforeMs)) return;
    this.sql.exec('DELETE FROM splices WHERE out_at + duration_ms <= ?', beforeMs);
    for (const s of this.splices) if (s.outAt + s.durationMs <= beforeMs) this.receivedAt.delete(s.id);
    this.splices = this.splices.filter((s) => s.outAt + s.durationMs > beforeMs);
  }
}
