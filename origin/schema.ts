/**
 * SQLite schema of one EventOrigin object (one event in one region). Idempotent: run at every
 * construction. Add columns/tables with new statements; never rewrite an old one.
 */
export const SCHEMA = [
  // One row once the event exists (its first init was stored).
  `CREATE TABLE IF NOT EXISTS event (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     event_id TEXT NOT NULL,
     config TEXT NOT NULL,
     created_at INTEGER NOT NULL)`,
  // The manifest view of a track: TrackDescriptor JSON, from the first init stored for it.
  `CREATE TABLE IF NOT EXISTS tracks (
     track TEXT PRIMARY KEY,
     descriptor TEXT NOT NULL,
     created_at INTEGER NOT NULL)`,
  // The CMAF header per pipeline (at most 256 KB: one row).
  `CREATE TABLE IF NOT EXISTS inits (
     track TEXT NOT NULL,
     pipeline TEXT NOT NULL,
     bytes BLOB NOT NULL,
     info TEXT NOT NULL,
     received_at INTEGER NOT NULL,
     PRIMARY KEY (track, pipeline))`,
  // One row per stored copy of segment K; its bytes live in segment_chunks.
  `CREATE TABLE IF NOT EXISTS candidates (
     track TEXT NOT NULL,
     k INTEGER NOT NULL,
     pipeline TEXT NOT NULL,
     region TEXT NOT NULL,
     size INTEGER NOT NULL,
     sha256 TEXT NOT NULL,
     defects TEXT NOT NULL,
     received_at INTEGER NOT NULL,
     PRIMARY KEY (track, k, pipeline, region))`,
  `CREATE INDEX IF NOT EXISTS candidates_by_k ON candidates (k)`,
  // Segment bytes in pieces under the 2 MB row cap of Durable Object SQLite.
  `CREATE TABLE IF NOT EXISTS segment_chunks (
     track TEXT NOT NULL,
     k INTEGER NOT NULL,
     pipeline TEXT NOT NULL,
     region TEXT NOT NULL,
     seq INTEGER NOT NULL,
     bytes BLOB NOT NULL,
     PRIMARY KEY (track, k, pipeline, region, seq))`,
  `CREATE INDEX IF NOT EXISTS chunks_by_k ON segment_chunks (k)`,
  // Operator state: the event version (part of every cache key and ETag) and the end of the event.
  `CREATE TABLE IF NOT EXISTS event_state (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     version INTEGER NOT NULL,
     ended_at INTEGER,
     end_k INTEGER)`,
  // Operator masks: never serve pipeline's candidates for from_k <= K <= to_k (to_k NULL: open).
  `CREATE TABLE IF NOT EXISTS masks (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     pipeline TEXT NOT NULL,
     from_k INTEGER NOT NULL,
     to_k INTEGER,
     created_at INTEGER NOT NULL)`,
  // Per-pipeline health, updated by every stored segment; defects is JSON {defect: count}.
  `CREATE TABLE IF NOT EXISTS pipeline_health (
     pipeline TEXT PRIMARY KEY,
     last_k INTEGER NOT NULL,
     last_received_at INTEGER NOT NULL,
     lateness_ms INTEGER NOT NULL,
     last_defective INTEGER NOT NULL,
     segments INTEGER NOT NULL,
     defective INTEGER NOT NULL,
     defects TEXT NOT NULL)`,
  // A back-to-back event scheduled after this one (at most one).
  `CREATE TABLE IF NOT EXISTS next_event (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     event_id TEXT NOT NULL,
     at_k INTEGER NOT NULL)`,
  // Caption cues per language on the epoch media timeline (ms); identical cues from several
  // sources (pipelines A and B, a retried POST) are one row.
  `CREATE TABLE IF NOT EXISTS cues (
     language TEXT NOT NULL,
     start_ms INTEGER NOT NULL,
     end_ms INTEGER NOT NULL,
     text TEXT NOT NULL,
     received_at INTEGER NOT NULL,
     PRIMARY KEY (language, start_ms, end_ms, text))`,
  `CREATE INDEX IF NOT EXISTS cues_by_end ON cues (language, end_ms)`,
  // Candidates players were served as immutable (long TTL), and under which event version: such a
  // copy is never replaced by different bytes, and stays the one served, until the version moves.
  `CREATE TABLE IF NOT EXISTS served (
     track TEXT NOT NULL,
     k INTEGER NOT NULL,
     pipeline TEXT NOT NULL,
     region TEXT NOT NULL,
     version INTEGER NOT NULL,
     PRIMARY KEY (track, k, pipeline, region))`,
  `CREATE INDEX IF NOT EXISTS served_by_k ON served (k)`,
  // The storage budget (origin/storage-budget.ts): segments before floor_k were evicted to stay
  // inside it, and the alert raised when that happened (NULL: none).
  `CREATE TABLE IF NOT EXISTS storage_state (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     floor_k INTEGER,
     alert_since INTEGER,
     alert_message TEXT)`,
  // Ad breaks (origin/splices.ts): one row per splice_event_id, whichever pipeline or operator sent it.
  `CREATE TABLE IF NOT EXISTS splices (
     id INTEGER PRIMARY KEY,
     out_at INTEGER NOT NULL,
     duration_ms INTEGER NOT NULL,
     source TEXT NOT NULL,
     scte35 TEXT NOT NULL,
     received_at INTEGER NOT NULL)`,
];
