import type { AuditEntry, EventDefinition, EventPhase } from '../contract/control-plane.ts';

/**
 * The hub's durable records (SQLite in the hub object): event definitions with their phase, the
 * pipelines each should be running, and the audit timeline. Everything the hub must still know
 * after it restarts lives here; spoke state does not (it is re-reported within seconds).
 */
export const HUB_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    phase TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    started_at INTEGER,
    ended_at INTEGER
  )`,
  `CREATE TABLE IF NOT EXISTS pipelines (
    event TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    desired TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (event, pipeline)
  )`,
  `CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event TEXT NOT NULL,
    at INTEGER NOT NULL,
    who TEXT NOT NULL,
    what TEXT NOT NULL,
    detail TEXT NOT NULL
  )`,
  'CREATE INDEX IF NOT EXISTS audit_by_event ON audit (event, id)',
];

export interface StoredEvent {
  definition: EventDefinition;
  phase: EventPhase;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  endedAt: number | null;
}

export type DesiredState = 'running' | 'stopped';

interface EventRow {
  id: string;
  definition: string;
  phase: string;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  ended_at: number | null;
  [key: string]: SqlStorageValue;
}

export class EventStore {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    for (const statement of HUB_SCHEMA) sql.exec(statement);
  }

  get(id: string): StoredEvent | undefined {
    const row = this.sql.exec<EventRow>('SELECT * FROM events WHERE id = ?', id).toArray()[0];
    return row && fromRow(row);
  }

  list(): StoredEvent[] {
    return this.sql.exec<EventRow>('SELECT * FROM events ORDER BY created_at').toArray().map(fromRow);
  }

  /** False when the id is taken. */
  insert(definition: EventDefinition, phase: EventPhase, now: number): boolean {
    const cursor = this.sql.exec(
      'INSERT OR IGNORE INTO events (id, definition, phase, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
      definition.id,
      JSON.stringify(definition),
      phase,
      now,
      now,
    );
    if (cursor.rowsWritten === 0) return false;
    for (const pipeline of definition.pipelines) this.setDesired(definition.id, pipeline, 'stopped', now);
    return true;
  }

  update(definition: EventDefinition, now: number): void {
    this.sql.exec(
      'UPDATE events SET definition = ?, updated_at = ? WHERE id = ?',
      JSON.stringify(definition),
      now,
      definition.id,
    );
  }

  setPhase(id: string, phase: EventPhase, now: number): void {
    const stamp =
      phase === 'starting' ? ', started_at = COALESCE(started_at, ?)' : phase === 'ended' ? ', ended_at = ?' : '';
    if (stamp) this.sql.exec(`UPDATE events SET phase = ?, updated_at = ?${stamp} WHERE id = ?`, phase, now, now, id);
    else this.sql.exec('UPDATE events SET phase = ?, updated_at = ? WHERE id = ?', phase, now, id);
  }

  delete(id: string): void {
    this.sql.exec('DELETE FROM events WHERE id = ?', id);
    this.sql.exec('DELETE FROM pipelines WHERE event = ?', id);
  }

  setDesired(event: string, pipeline: string, desired: DesiredState, now: number): void {
    this.sql.exec(
      'INSERT INTO pipelines (event, pipeline, desired, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (event, pipeline) DO UPDATE SET desired = excluded.desired, updated_at = excluded.updated_at',
      event,
      pipeline,
      desired,
      now,
    );
  }

  desired(event: string): Record<string, DesiredState> {
    const out: Record<string, DesiredState> = {};
    for (const row of this.sql.exec<{ pipeline: string; desired: DesiredState }>(
      'SELECT pipeline, desired FROM pipelines WHERE event = ?',
      event,
    ))
      out[row.pipeline] = row.desired;
    return out;
  }

  audit(event: string, who: string, what: string, detail: unknown, now: number): AuditEntry {
    const row = this.sql
      .exec<{ id: number }>(
        'INSERT INTO audit (event, at, who, what, detail) VALUES (?, ?, ?, ?, ?) RETURNING id',
        event,
        now,
        who,
        what,
        JSON.stringify(detail ?? null),
      )
      .one();
    return { id: row.id, at: new Date(now).toISOString(), who, what, detail: detail ?? null };
  }

  /** The newest `limit` entries, oldest first. */
  timeline(event: string, limit = 200): AuditEntry[] {
    return this.sql
      .exec<{ id: number; at: number; who: string; what: string; detail: string }>(
        'SELECT id, at, who, what, detail FROM audit WHERE event = ? ORDER BY id DESC LIMIT ?',
        event,
        limit,
      )
      .toArray()
      .reverse()
      .map((r) => ({
        id: r.id,
        at: new Date(r.at).toISOString(),
        who: r.who,
        what: r.what,
        detail: JSON.parse(r.detail),
      }));
  }
}

function fromRow(row: EventRow): StoredEvent {
  return {
    definition: JSON.parse(row.definition) as EventDefinition,
    phase: row.phase as EventPhase,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
  };
}
