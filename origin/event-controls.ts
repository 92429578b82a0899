import { segmentNumberAt } from '../contract/epoch.ts';
import type { EventConfig } from '../contract/event-config.ts';
import { formatEventState, type PipelineState } from '../contract/event-state.ts';
import type { Mask, MaskRequest } from '../contract/operator.ts';
import { pipelineStatus, recordSegment, type PipelineHealth } from './pipeline-health.ts';

/** Whether an operator mask hides `pipeline`'s candidate of segment `k`. */
export function isMasked(masks: Mask[], pipeline: string, k: number): boolean {
  return masks.some((m) => m.pipeline === pipeline && k >= m.fromK && (m.toK === null || k <= m.toK));
}

/**
 * The operator-controlled state of one event in one origin object — version, end, masks — and
 * the pipelines' health, persisted in SQLite and mirrored in memory so that every request reads
 * it without a query and every change is visible to the very next request. Every change is
 * written first and mirrored only once the write succeeded: a failed write changes neither.
 */
export class EventControls {
  private readonly sql: SqlStorage;
  version = 1;
  endedAt: number | null = null;
  endK: number | null = null;
  masks: Mask[] = [];
  next: { eventId: string; atK: number } | null = null;
  readonly health = new Map<string, PipelineHealth>();

  constructor(sql: SqlStorage) {
    this.sql = sql;
    const state = sql
      .exec<{ version: number; ended_at: number | null; end_k: number | null }>(
        'SELECT version, ended_at, end_k FROM event_state WHERE id = 1',
      )
      .toArray()[0];
    if (state) {
      this.version = state.version;
      this.endedAt = state.ended_at;
      this.endK = state.end_k;
    }
    const next = sql
      .exec<{ event_id: string; at_k: number }>('SELECT event_id, at_k FROM next_event WHERE id = 1')
      .toArray()[0];
    if (next) this.next = { eventId: next.event_id, atK: next.at_k };
    this.masks = sql
      .exec<{ id: number; pipeline: string; from_k: number; to_k: number | null; created_at: number }>(
        'SELECT * FROM masks ORDER BY id',
      )
      .toArray()
      .map((r) => ({ id: r.id, pipeline: r.pipeline, fromK: r.from_k, toK: r.to_k, createdAt: r.created_at }));
    for (const r of sql.exec<Record<string, number | string>>('SELECT * FROM pipeline_health').toArray()) {
      this.health.set(String(r.pipeline), {
        pipeline: String(r.pipeline),
        lastK: Number(r.last_k),
        lastReceivedAt: Number(r.last_received_at),
        latenessMs: Number(r.lateness_ms),
        lastDefective: Number(r.last_defective) === 1,
        segments: Number(r.segments),
        defective: Number(r.defective),
        defects: JSON.parse(String(r.defects)) as Record<string, number>,
      });
    }
  }

  get ended(): boolean {
    return this.endedAt !== null;
  }

  bumpVersion(atLeast = 0): number {
    const version = Math.max(this.version + 1, atLeast);
    this.saveState(version, this.endedAt, this.endK);
    this.version = version;
    return version;
  }

  end(endK: number, nowMs: number): void {
    this.saveState(this.version, nowMs, endK);
    this.endedAt = nowMs;
    this.endK = endK;
  }

  setNext(eventId: string, atK: number): void {
    this.sql.exec('INSERT OR REPLACE INTO next_event (id, event_id, at_k) VALUES (1, ?, ?)', eventId, atK);
    this.next = { eventId, atK };
  }

  clearNext(): boolean {
    const had = this.next !== null;
    this.sql.exec('DELETE FROM next_event');
    this.next = null;
    return had;
  }

  addMask(req: MaskRequest, nowMs: number, id?: number): Mask {
    const row = this.sql
      .exec<{ id: number }>(
        'INSERT INTO masks (id, pipeline, from_k, to_k, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id',
        id ?? null,
        req.pipeline,
        req.fromK,
        req.toK ?? null,
        nowMs,
      )
      .one();
    const mask: Mask = { id: row.id, pipeline: req.pipeline, fromK: req.fromK, toK: req.toK ?? null, createdAt: nowMs };
    this.masks.push(mask);
    return mask;
  }

  removeMask(id: number): boolean {
    const before = this.masks.length;
    this.sql.exec('DELETE FROM masks WHERE id = ?', id);
    this.masks = this.masks.filter((m) => m.id !== id);
    return this.masks.length < before;
  }

  /**
   * Persist the pipeline's health with one more stored candidate folded in, inside the caller's
   * transaction; the caller hands the result to applyHealth once that transaction committed.
   * Undefined when health ignores this K (origin/pipeline-health.ts): nothing is written.
   */
  writeSegmentHealth(
    pipeline: string,
    k: number,
    defects: string[],
    receivedAt: number,
    config: EventConfig,
  ): PipelineHealth | undefined {
    const prev = this.health.get(pipeline);
    const h = recordSegment(prev, pipeline, k, defects, receivedAt, config);
    if (!h || h === prev) return undefined;
    this.sql.exec(
      'INSERT OR REPLACE INTO pipeline_health (pipeline, last_k, last_received_at, lateness_ms, last_defective, segments, defective, defects) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      pipeline,
      h.lastK,
      h.lastReceivedAt,
      h.latenessMs,
      h.lastDefective ? 1 : 0,
      h.segments,
      h.defective,
      JSON.stringify(h.defects),
    );
    return h;
  }

  applyHealth(h: PipelineHealth): void {
    this.health.set(h.pipeline, h);
  }

  pipelineStates(nowMs: number, config: EventConfig): (PipelineState & { health: PipelineHealth })[] {
    const liveK = segmentNumberAt(nowMs, config.segmentDurationMs);
    return [...this.health.values()]
      .sort((a, b) => a.pipeline.localeCompare(b.pipeline))
      .map((h) => ({
        pipeline: h.pipeline,
        status: pipelineStatus(h, nowMs, config, isMasked(this.masks, h.pipeline, liveK)),
        lastK: h.lastK,
        latenessMs: h.latenessMs,
        defective: h.defective,
        health: h,
      }));
  }

  /** Pipelines that are publishing (not `down`) at `nowMs`. */
  alivePipelines(nowMs: number, config: EventConfig): PipelineHealth[] {
    return [...this.health.values()].filter((h) => pipelineStatus(h, nowMs, config, false) !== 'down');
  }

  /**
   * Whether every pipeline that is up has stored K+2 or later of this track: the evidence that K
   * is not merely late but will not come (origin/segment-timing.ts). Per track, because a loaded
   * bridge can run its video a segment or two ahead of its audio. False when no pipeline is up:
   * a total silence of a few seconds is more often a hiccup (an overloaded host, a network
   * blip) than the end, so K is waited for until its hard deadline. `newestOf` is the newest K of
   * this track stored from a pipeline (origin/segment-index.ts): no query per K.
   */
  pipelinesPast(
    k: number,
    nowMs: number,
    config: EventConfig,
    newestOf: (pipeline: string) => number | undefined,
  ): boolean {
    const alive = this.alivePipelines(nowMs, config);
    if (alive.length === 0) return false;
    return alive.every((h) => (newestOf(h.pipeline) ?? -1) >= k + 2);
  }

  /** The x-event-state header value (contract/event-state.ts). */
  header(nowMs: number, config: EventConfig): string {
    return formatEventState({
      version: this.version,
      ended: this.ended,
      t: nowMs,
      tokens: config.playerTokens === 'required',
      pipelines: this.pipelineStates(nowMs, config),
    });
  }

  /** Writes first; the callers change their fields only once this returned (memory follows storage). */
  private saveState(version: number, endedAt: number | null, endK: number | null): void {
    this.sql.exec(
      'INSERT OR REPLACE INTO event_state (id, version, ended_at, end_k) VALUES (1, ?, ?, ?)',
      version,
      endedAt,
      endK,
    );
  }
}
