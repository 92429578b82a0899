/**
 * What the origin object says about an answer: facts, never HTTP statuses or Cache-Control. The
 * edge (edge/answer-policy.ts, with the operator's TTL rules) turns a fact into the status, the
 * Cache-Control and its own cache TTL, in one place.
 */
export type OriginFact =
  /** Stored and final: the same bytes for this URL from now on (until a version bump). */
  | { state: 'stored' }
  /** Served, but flagged: a clean copy of the same K may still arrive. */
  | { state: 'defective'; defects: string[] }
  /** Written from caption cues that may still arrive for it. */
  | { state: 'settling' }
  /**
   * A live manifest: changes every segment duration. `nextSegment` (an HLS media playlist): the
   * segment after the newest it lists, which it cannot list before that segment has ended
   * (`endsAtMs`) and waits for until it is due (`dueAtMs`), both UTC ms.
   */
  | { state: 'manifest'; segmentDurationMs: number; nextSegment?: { endsAtMs: number; dueAtMs: number } }
  /** Not published yet; expected at `dueMs` (UTC ms). */
  | { state: 'early'; dueMs: number }
  /** Never produced, or outside the DVR window; `recent`: its deadline passed moments ago (a late copy may still come). */
  | { state: 'gone'; recent: boolean }
  /** No such event, track, candidate or key (yet). */
  | { state: 'missing' }
  /** The origin is shedding load; come back after `retryAfterMs`. */
  | { state: 'shed'; retryAfterMs: number }
  /** An operator view: never kept by any shared cache. */
  | { state: 'private' };
