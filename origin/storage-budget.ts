import type { EventConfig } from '../contract/event-config.ts';

/** From this share of `storageBudgetBytes` on, the oldest DVR segments are evicted… */
export const EVICT_AT_SHARE = 0.9;
/** …until the candidates take at most this share again (room for many segments before the next round). */
export const EVICT_TO_SHARE = 0.8;

export interface StorageAlert {
  /** When the budget first cut the DVR window (ms since the epoch). */
  since: number;
  message: string;
}

/** What the budget remembers besides the byte count: persisted in storage_state. */
export interface BudgetState {
  /** The DVR window starts no earlier than this K: older segments were evicted for the budget. */
  floorK: number | null;
  alert: StorageAlert | null;
}

/**
 * The event's storage budget in one origin object (DESIGN §5: a Durable Object holds at most
 * 10 GB; at that cap every new segment would fail while the oldest DVR stayed). It counts the
 * bytes of stored candidates and says how many to free; the origin evicts the oldest K first and
 * never the live edge. Memory follows storage: `write` runs inside the caller's transaction and
 * `apply` only after it committed.
 */
export class StorageBudget {
  private readonly sql: SqlStorage;
  /** Bytes of every stored candidate (SUM(size)), kept in step with each committed write. */
  bytes: number;
  floorK: number | null = null;
  alert: StorageAlert | null = null;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    this.bytes = sql.exec<{ n: number | null }>('SELECT SUM(size) AS n FROM candidates').one().n ?? 0;
    const row = sql
      .exec<{ floor_k: number | null; alert_since: number | null; alert_message: string | null }>(
        'SELECT floor_k, alert_since, alert_message FROM storage_state WHERE id = 1',
      )
      .toArray()[0];
    if (row) {
      this.floorK = row.floor_k;
      this.alert =
        row.alert_since === null ? null : { since: row.alert_since, message: row.alert_message ?? 'storage budget' };
    }
  }

  /** Bytes to free now: 0 below EVICT_AT_SHARE of the budget, else down to EVICT_TO_SHARE. */
  excess(config: EventConfig): number {
    const budget = config.storageBudgetBytes;
    return this.bytes > budget * EVICT_AT_SHARE ? Math.ceil(this.bytes - budget * EVICT_TO_SHARE) : 0;
  }

  state(): BudgetState {
    return { floorK: this.floorK, alert: this.alert };
  }

  /** Persist `next` (inside the caller's transaction). */
  write(next: BudgetState): void {
    this.sql.exec(
      'INSERT OR REPLACE INTO storage_state (id, floor_k, alert_since, alert_message) VALUES (1, ?, ?, ?)',
      next.floorK,
      next.alert?.since ?? null,
      next.alert?.message ?? null,
    );
  }

  /** Mirror what was committed. */
  apply(next: BudgetState, bytesDelta = 0): void {
    this.floorK = next.floorK;
    this.alert = next.alert;
    this.bytes += bytesDelta;
  }

  /** What the operator state shows. */
  view(config: EventConfig, dvrStartK: number) {
    return {
      bytes: this.bytes,
      budgetBytes: config.storageBudgetBytes,
      usedShare: Math.round((this.bytes / config.storageBudgetBytes) * 1000) / 1000,
      dvrStartK,
      budgetFloorK: this.floorK,
      alert: this.alert ? { since: new Date(this.alert.since).toISOString(), message: this.alert.message } : null,
    };
  }
}
