import type { Alert, AlertRule } from '../contract/control-state.ts';

/**
 * Alert rules (docs/control-plane.md "Alerts"), as pure functions of what the hub knows about one
 * event at one instant, and the SQLite record of every alert with its SET and CLEARED times. The
 * hub evaluates the rules on every poll tick (2 s) and whenever a bridge's state or input
 * changes; a condition that holds and has no SET alert opens one, a SET alert whose condition no
 * longer holds is CLEARED. The history is never rewritten: one row per occurrence.
 */

/** A bridge that has not reported for this long has lost its input (or its connection). */
export const INPUT_SILENCE_MS = 6000;
/** Defective candidates over segments stored, over DEFECT_WINDOW_MS, above which defect-rate is SET. */
export const DEFECT_RATE = 0.05;
export const DEFECT_WINDOW_MS = 60_000;
/** Fewer segments than this in the window say nothing about a rate. */
export const DEFECT_MIN_SEGMENTS = 5;
/** Consecutive failed polls of a region's origin that make it down. */
export const REGION_DOWN_POLLS = 2;
export const STORAGE_NEAR_SHARE = 0.9;
/** 5xx over requests at the edge, over EDGE_WINDOW_MS, above which edge-error-rate is SET. */
export const EDGE_ERROR_RATE = 0.05;
export const EDGE_WINDOW_MS = 30_000;
export const EDGE_MIN_REQUESTS = 10;

/** One line each: what the operator does when the alert is SET. */
export const RUNBOOKS: Record<AlertRule, string> = {
  'input-lost':
    "Check the venue feed and the pipeline's bridge (its log, the network to the venue); viewers get the other pipeline meanwhile.",
  'pipeline-late':
    "Check the bridge host's CPU and its upload to the origin; if it persists, mask the pipeline so viewers get the other one.",
  'defect-rate':
    'Look at the defect kinds in the pipeline tile; restart the pipeline if its encoder misbehaves, or mask it.',
  'region-down':
    "Check the region's origin (Workers status, logs); players fail over to the other region by themselves.",
  'storage-near-budget':
    'Shorten the DVR window (set-dvr-window) or raise the storage budget before the origin evicts DVR segments.',
  'edge-error-rate':
    'Read the edge figures: 503s are shedding (raise EDGE_MAX_ORIGIN_REQUESTS), 502/504 point at an origin region.',
  'redundancy-lost':
    'Viewers are served by the other pipeline alone: start this one again (start-pipeline) unless it was stopped for maintenance.',
};

/** What the rules read about one event. */
export interface RuleInput {
  now: number;
  segmentDurationMs: number;
  pipelines: {
    pipeline: string;
    desired: 'running' | 'stopped';
    /** Since when the hub could have heard from this bridge: running since, or the hub's start. */
    expectedSince: number;
    /** When the hub received the newest report, null if none since `expectedSince`'s hub start. */
    lastReportAt: number | null;
    inputPresent: boolean | null;
  }[];
  regions: {
    region: string;
    consecutiveFailures: number;
    /** The origin's view of each pipeline at the last successful poll. */
    pipelines: { pipeline: string; status: string; latenessMs: number }[];
    storage: { bytes: number; budgetBytes: number } | null;
    /** Segments stored and defective candidates among them over the last DEFECT_WINDOW_MS, per pipeline. */
    defectWindow: Record<string, { segments: number; defective: number }>;
  }[];
  /** Edge counters over the last EDGE_WINDOW_MS. */
  edge: { requests: number; status5xx: number };
}

/** A condition that holds now. */
export interface Condition {
  rule: AlertRule;
  subject: string;
  message: string;
}

export function evaluateRules(input: RuleInput): Condition[] {
  const out: Condition[] = [];
  const running = new Set(input.pipelines.filter((p) => p.desired === 'running').map((p) => p.pipeline));
  // A pipeline stopped while the event runs on the others: deliberate or not, one failure away from black.
  if (running.size > 0 && input.pipelines.length > 1)
    for (const p of input.pipelines.filter((p) => p.desired === 'stopped'))
      out.push({
        rule: 'redundancy-lost',
        subject: p.pipeline,
        message: `pipeline ${p.pipeline} is stopped: the event runs on ${[...running].join(', ')} alone`,
      });
  for (const p of input.pipelines) {
    if (p.desired !== 'running') continue;
    const heard = p.lastReportAt ?? p.expectedSince;
    if (input.now - heard > INPUT_SILENCE_MS)
      out.push({
        rule: 'input-lost',
        subject: p.pipeline,
        message:
          p.lastReportAt === null
            ? `pipeline ${p.pipeline}: no report from its bridge for ${seconds(input.now - heard)} s since it was started`
            : `pipeline ${p.pipeline}: no report from its bridge for ${seconds(input.now - heard)} s`,
      });
    else if (p.inputPresent === false)
      out.push({
        rule: 'input-lost',
        subject: p.pipeline,
        message: `pipeline ${p.pipeline}: the bridge has no contribution feed`,
      });
  }

  const late = new Map<string, string[]>();
  const defects = new Map<string, string[]>();
  for (const r of input.regions) {
    if (r.consecutiveFailures >= REGION_DOWN_POLLS) {
      out.push({
        rule: 'region-down',
        subject: r.region,
        message: `region ${r.region}: the origin did not answer the last ${r.consecutiveFailures} polls`,
      });
      continue;
    }
    for (const p of r.pipelines) {
      if (!running.has(p.pipeline)) continue;
      if (p.status === 'down') pushTo(late, p.pipeline, `down in ${r.region}`);
      else if (p.latenessMs > input.segmentDurationMs)
        pushTo(late, p.pipeline, `${seconds(p.latenessMs)} s late in ${r.region}`);
    }
    for (const [pipeline, w] of Object.entries(r.defectWindow)) {
      if (w.segments < DEFECT_MIN_SEGMENTS || w.defective / w.segments <= DEFECT_RATE) continue;
      pushTo(defects, pipeline, `${w.defective}/${w.segments} defective in ${r.region}`);
    }
    if (r.storage && r.storage.budgetBytes > 0 && r.storage.bytes / r.storage.budgetBytes >= STORAGE_NEAR_SHARE)
      out.push({
        rule: 'storage-near-budget',
        subject: r.region,
        message: `region ${r.region}: storage at ${Math.round((r.storage.bytes / r.storage.budgetBytes) * 100)}% of its budget`,
      });
  }
  for (const [pipeline, where] of late)
    out.push({ rule: 'pipeline-late', subject: pipeline, message: `pipeline ${pipeline}: ${where.join(', ')}` });
  for (const [pipeline, where] of defects)
    out.push({
      rule: 'defect-rate',
      subject: pipeline,
      message: `pipeline ${pipeline}: over ${DEFECT_RATE * 100}% defective in the last minute (${where.join(', ')})`,
    });
  const e = input.edge;
  if (e.requests >= EDGE_MIN_REQUESTS && e.status5xx / e.requests > EDGE_ERROR_RATE)
    out.push({
      rule: 'edge-error-rate',
      subject: 'edge',
      message: `edge: ${e.status5xx} of ${e.requests} answers were 5xx in the last ${EDGE_WINDOW_MS / 1000} s`,
    });
  return out;
}

/** Which conditions open an alert and which SET alerts clear. */
export function diffAlerts(
  active: { rule: AlertRule; subject: string }[],
  conditions: Condition[],
): { set: Condition[]; cleared: { rule: AlertRule; subject: string }[] } {
  const key = (a: { rule: string; subject: string }) => `${a.rule}\u0000${a.subject}`;
  const holding = new Set(conditions.map(key));
  const open = new Set(active.map(key));
  return {
    set: conditions.filter((c) => !open.has(key(c))),
    cleared: active.filter((a) => !holding.has(key(a))),
  };
}

/** Segments and defective candidates added over the window, from cumulative samples (oldest first). */
export function windowDelta(
  samples: { at: number; segments: number; defective: number }[],
  now: number,
  windowMs = DEFECT_WINDOW_MS,
): { segments: number; defective: number } {
  if (samples.length < 2) return { segments: 0, defective: 0 };
  const newest = samples[samples.length - 1];
  // The oldest sample inside the window, or the newest one before it (the window's start value).
  let base = samples[0];
  for (const s of samples) {
    if (s.at > now - windowMs) break;
    base = s;
  }
  return {
    segments: Math.max(0, newest.segments - base.segments),
    defective: Math.max(0, newest.defective - base.defective),
  };
}

function pushTo(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;

// ---- the record -----------------------------------------------------------------------------

export const ALERT_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event TEXT NOT NULL,
    rule TEXT NOT NULL,
    subject TEXT NOT NULL,
    state TEXT NOT NULL,
    set_at INTEGER NOT NULL,
    cleared_at INTEGER,
    message TEXT NOT NULL
  )`,
  'CREATE INDEX IF NOT EXISTS alerts_by_event ON alerts (event, id)',
  'CREATE INDEX IF NOT EXISTS alerts_by_state ON alerts (state, event)',
  `CREATE TABLE IF NOT EXISTS alert_webhooks (
    position INTEGER PRIMARY KEY,
    url TEXT NOT NULL
  )`,
];

interface AlertRow {
  id: number;
  event: string;
  rule: string;
  subject: string;
  state: string;
  set_at: number;
  cleared_at: number | null;
  message: string;
  [key: string]: SqlStorageValue;
}

export class AlertStore {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    for (const statement of ALERT_SCHEMA) sql.exec(statement);
  }

  active(event?: string): Alert[] {
    const rows =
      event === undefined
        ? this.sql.exec<AlertRow>("SELECT * FROM alerts WHERE state = 'SET' ORDER BY id")
        : this.sql.exec<AlertRow>("SELECT * FROM alerts WHERE state = 'SET' AND event = ? ORDER BY id", event);
    return rows.toArray().map(fromRow);
  }

  /** Newest first. */
  list(filter: { event?: string; state?: 'SET' | 'CLEARED'; limit?: number }): Alert[] {
    const where: string[] = [];
    const args: SqlStorageValue[] = [];
    if (filter.event !== undefined) {
      where.push('event = ?');
      args.push(filter.event);
    }
    if (filter.state !== undefined) {
      where.push('state = ?');
      args.push(filter.state);
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    return this.sql
      .exec<AlertRow>(`SELECT * FROM alerts ${clause} ORDER BY id DESC LIMIT ?`, ...args, filter.limit ?? 200)
      .toArray()
      .map(fromRow);
  }

  /** The newest alert of each (event, rule, subject): what the metrics export as 1 (SET) or 0. */
  latestPerSubject(): Alert[] {
    return this.sql
      .exec<AlertRow>(
        'SELECT * FROM alerts WHERE id IN (SELECT MAX(id) FROM alerts GROUP BY event, rule, subject) ORDER BY id',
      )
      .toArray()
      .map(fromRow);
  }

  set(event: string, c: Condition, now: number): Alert {
    const row = this.sql
      .exec<AlertRow>(
        "INSERT INTO alerts (event, rule, subject, state, set_at, message) VALUES (?, ?, ?, 'SET', ?, ?) RETURNING *",
        event,
        c.rule,
        c.subject,
        now,
        c.message,
      )
      .one();
    return fromRow(row);
  }

  clear(event: string, rule: AlertRule, subject: string, now: number): Alert[] {
    return this.sql
      .exec<AlertRow>(
        "UPDATE alerts SET state = 'CLEARED', cleared_at = ? WHERE state = 'SET' AND event = ? AND rule = ? AND subject = ? RETURNING *",
        now,
        event,
        rule,
        subject,
      )
      .toArray()
      .map(fromRow);
  }

  webhooks(): string[] {
    return this.sql
      .exec<{ url: string }>('SELECT url FROM alert_webhooks ORDER BY position')
      .toArray()
      .map((r) => r.url);
  }

  setWebhooks(urls: string[]): void {
    this.sql.exec('DELETE FROM alert_webhooks');
    urls.forEach((url, i) => {
      this.sql.exec('INSERT INTO alert_webhooks (position, url) VALUES (?, ?)', i, url);
    });
  }
}

function fromRow(r: AlertRow): Alert {
  const rule = r.rule as AlertRule;
  return {
    id: r.id,
    rule,
    event: r.event,
    subject: r.subject,
    state: r.state === 'SET' ? 'SET' : 'CLEARED',
    setAt: new Date(r.set_at).toISOString(),
    clearedAt: r.cleared_at === null ? null : new Date(r.cleared_at).toISOString(),
    message: r.message,
    runbook: RUNBOOKS[rule] ?? '',
  };
}
