import { MAX_CUE_MS } from '../contract/captions.ts';
import type { Cue } from '../packager/captions/cue.ts';

/**
 * Caption cues of one event in its origin object's SQLite. Segments are never stored for text:
 * each WebVTT or stpp segment is written on request from the cues that overlap it, so a cue
 * posted late still reaches every later request, and a K without cues is simply empty.
 */
export class CaptionStore {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
  }

  /** Insert cues; identical ones already stored are kept once. Returns how many were new. */
  add(language: string, cues: readonly Cue[], nowMs: number): number {
    let added = 0;
    for (const c of cues) {
      added +=
        this.sql.exec(
          'INSERT OR IGNORE INTO cues (language, start_ms, end_ms, text, received_at) VALUES (?, ?, ?, ?, ?)',
          language,
          c.startMs,
          c.endMs,
          c.text,
          nowMs,
        ).rowsWritten > 0
          ? 1
          : 0;
    }
    return added;
  }

  /** Cues of `language` overlapping [fromMs, toMs). */
  overlapping(language: string, fromMs: number, toMs: number): Cue[] {
    return this.sql
      .exec<{ start_ms: number; end_ms: number; text: string }>(
        // The start bound lets the (language, end_ms) index do the work: no cue is longer than MAX_CUE_MS.
        'SELECT start_ms, end_ms, text FROM cues WHERE language = ? AND end_ms > ? AND end_ms < ? AND start_ms < ? ORDER BY start_ms, end_ms, text',
        language,
        fromMs,
        toMs + MAX_CUE_MS,
        toMs,
      )
      .toArray()
      .map((r) => ({ startMs: r.start_ms, endMs: r.end_ms, text: r.text }));
  }

  /** Forget cues that ended before `beforeMs` (the DVR window's start). */
  evict(beforeMs: number): void {
    this.sql.exec('DELETE FROM cues WHERE end_ms <= ?', beforeMs);
  }

  count(): number {
    return this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM cues').one().n;
  }
}
