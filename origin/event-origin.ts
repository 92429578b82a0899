import { DurableObject } from 'cloudflare:workers';
import { segmentNumberAt } from '../contract/epoch.ts';
import { defaultEventConfig, EventConfig, type EventConfigPatch } from '../contract/event-config.ts';
import { EVENT_STATE_HEADER } from '../contract/event-state.ts';
import type { TrackMeta } from '../contract/ingest.ts';
import type { EndRequest, Mask, MaskRequest } from '../contract/operator.ts';
import type { ManifestInput, TrackDescriptor } from '../contract/track.ts';
import type { Env } from '../edge/env.ts';
import type { InitInfo } from '../packager/init-info.ts';
import { inspectSegment } from '../packager/inspect.ts';
import { join, split } from './chunks.ts';
import { EventControls, isMasked } from './event-controls.ts';
import { LoadGauge } from './load-gauge.ts';
import type { PipelineHealth } from './pipeline-health.ts';
import { fail, ok, type OriginResult } from './result.ts';
import { SCHEMA } from './schema.ts';
import { selectCandidate, type Candidate } from './select-candidate.ts';
import { earlyCacheControl, isDvrRequest, newestDueK, segmentTiming, windowStartK } from './segment-timing.ts';
import { describeTrack } from './track-descriptor.ts';

/** Negative answers about things that may appear any moment (an event or track not yet ingested). */
const SHORT_NEGATIVE_TTL = { 'cache-control': 'public, max-age=1' };
/** How often the eviction alarm runs while the object holds segments. */
const EVICTION_INTERVAL_MS = 30_000;

/** Bytes that own a plain ArrayBuffer (what Response bodies and WebCrypto accept). */
type Bytes = Uint8Array<ArrayBuffer>;

export interface StoredSegment {
  bytes: Bytes;
  kind: TrackDescriptor['kind'];
  candidate: Candidate;
}

export interface PutSegmentRequest {
  event: string;
  pipeline: string;
  track: string;
  k: number;
  /** Region the segment was ingested in (cross-published copies keep their origin region). */
  region: string;
  bytes: Bytes;
  /** Defects the publisher reported in x-segment-defects. */
  publisherDefects: string[];
}

/**
 * The live origin for one event in one region, named `${event}:${region}`. It stores every
 * candidate of every segment with its inspection, answers segment requests with live-edge
 * semantics (DESIGN §4) and selects among candidates (DESIGN §5). RPC methods return
 * OriginResult values; the edge turns failures into HTTP answers.
 */
export class EventOrigin extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Requests held for a live-edge segment, keyed `${track}/${k}`; woken by putSegment. */
  private readonly waiters = new Map<string, Set<() => void>>();
  private config: EventConfig | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    for (const statement of SCHEMA) this.sql.exec(statement);
  }

  // ---- ingest -------------------------------------------------------------------------------

  /** Store the CMAF header of `track` from `pipeline`: 201 first time, 204 identical, 409 different. */
  async putInit(req: { event: string; pipeline: string; track: string; bytes: Bytes; info: InitInfo; meta: TrackMeta }): Promise<OriginResult<{ status: 201 | 204 }>> {
    const stored = this.sql.exec<{ bytes: ArrayBuffer }>('SELECT bytes FROM inits WHERE track = ? AND pipeline = ?', req.track, req.pipeline).toArray()[0];
    if (stored) {
      if (sameBytes(new Uint8Array(stored.bytes), req.bytes)) return ok({ status: 204 });
      return fail('INIT_CONFLICT', `pipeline ${req.pipeline} already stored a different init for track ${req.track}; an init never changes during an event (start a new event or track id)`);
    }
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.sql.exec('INSERT OR IGNORE INTO event (id, event_id, config, created_at) VALUES (1, ?, ?, ?)', req.event, JSON.stringify(defaultEventConfig), now);
      this.sql.exec('INSERT OR IGNORE INTO tracks (track, descriptor, created_at) VALUES (?, ?, ?)', req.track, JSON.stringify(describeTrack(req.track, req.info, req.meta)), now);
      this.sql.exec('INSERT INTO inits (track, pipeline, bytes, info, received_at) VALUES (?, ?, ?, ?, ?)', req.track, req.pipeline, req.bytes.slice().buffer, JSON.stringify(req.info), now);
    });
    return ok({ status: 201 });
  }

  /**
   * Inspect and store one candidate of segment K. 412 without this pipeline's init, 400 when it
   * cannot be parsed; 204 when the same bytes are already stored (idempotent retry); otherwise
   * 201, replacing a different earlier copy from the same pipeline and region.
   */
  async putSegment(req: PutSegmentRequest): Promise<OriginResult<{ status: 201 | 204; defects: string[] }>> {
    // The only await before the writes: from here on nothing interleaves with this request.
    const sha256 = await digestHex(req.bytes);
    const initRow = this.sql.exec<{ info: string }>('SELECT info FROM inits WHERE track = ? AND pipeline = ?', req.track, req.pipeline).toArray()[0];
    if (!initRow) return fail('INIT_MISSING', `no init.mp4 stored for event ${req.event}, pipeline ${req.pipeline}, track ${req.track}: PUT it before segments`);
    const config = this.loadConfig()!;
    const inspection = inspectSegment(req.bytes, JSON.parse(initRow.info) as InitInfo, req.k, config.segmentDurationMs);
    if (inspection.malformed) return fail('MEDIA_MALFORMED', `segment ${req.k} cannot be parsed: ${inspection.malformed}`);
    const defects = [...new Set<string>([...inspection.defects, ...req.publisherDefects])];

    const key = [req.track, req.k, req.pipeline, req.region] as const;
    const existing = this.sql.exec<{ sha256: string; size: number }>('SELECT sha256, size FROM candidates WHERE track = ? AND k = ? AND pipeline = ? AND region = ?', ...key).toArray()[0];
    if (existing && existing.sha256 === sha256 && existing.size === req.bytes.byteLength) return ok({ status: 204, defects });

    this.ctx.storage.transactionSync(() => {
      this.sql.exec('DELETE FROM segment_chunks WHERE track = ? AND k = ? AND pipeline = ? AND region = ?', ...key);
      this.sql.exec(
        'INSERT OR REPLACE INTO candidates (track, k, pipeline, region, size, sha256, defects, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        ...key, req.bytes.byteLength, sha256, JSON.stringify(defects), Date.now(),
      );
      split(req.bytes).forEach((piece, seq) => this.sql.exec('INSERT INTO segment_chunks (track, k, pipeline, region, seq, bytes) VALUES (?, ?, ?, ?, ?, ?)', ...key, seq, piece));
    });
    this.wake(`${req.track}/${req.k}`);
    await this.scheduleEviction(windowStartK(Date.now(), config) > req.k ? 1000 : EVICTION_INTERVAL_MS);
    return ok({ status: 201, defects });
  }

  // ---- player-facing ------------------------------------------------------------------------

  /** The init players should use: the first pipeline in preference order that has one. */
  async getInit(track: string): Promise<OriginResult<{ bytes: Bytes; kind: TrackDescriptor['kind'] }>> {
    const found = this.findTrack(track);
    if (!found.ok) return found;
    const rows = this.sql.exec<{ pipeline: string; bytes: ArrayBuffer }>('SELECT pipeline, bytes FROM inits WHERE track = ?', track).toArray();
    const order = found.value.config.pipelines;
    rows.sort((a, b) => rank(order, a.pipeline) - rank(order, b.pipeline) || a.pipeline.localeCompare(b.pipeline));
    return ok({ bytes: new Uint8Array(rows[0].bytes), kind: found.value.descriptor.kind });
  }

  /** Segment K of `track`, selected among candidates; waits for a live-edge segment that is due. */
  async getSegment(track: string, k: number, region: string): Promise<OriginResult<StoredSegment>> {
    const found = this.findTrack(track);
    if (!found.ok) return found;
    const { config, descriptor } = found.value;
    const timing = segmentTiming(k, Date.now(), config);
    if (timing.kind === 'gone' && timing.reason.includes('DVR window')) return fail('SEGMENT_GONE', timing.reason, { 'cache-control': 'public, max-age=60' });

    const stored = this.readSelected(track, k, config, region);
    if (stored) return ok({ ...stored, kind: descriptor.kind });
    if (timing.kind === 'gone') return fail('SEGMENT_GONE', timing.reason, { 'cache-control': 'public, max-age=60' });
    if (timing.kind === 'early') {
      return fail('SEGMENT_NOT_YET_AVAILABLE', `segment ${k} is due at ${new Date(timing.dueMs).toISOString()}`, { 'cache-control': earlyCacheControl(timing.maxAgeSeconds) });
    }
    await this.waitFor(`${track}/${k}`, timing.untilMs);
    const published = this.readSelected(track, k, config, region);
    if (published) return ok({ ...published, kind: descriptor.kind });
    return fail('SEGMENT_GONE', `segment ${k} was not published before its deadline`, { 'cache-control': 'public, max-age=60' });
  }

  /** Everything the DASH/HLS writers need, from segment-template metadata only. */
  async manifestInput(): Promise<OriginResult<ManifestInput>> {
    const event = this.sql.exec<{ event_id: string }>('SELECT event_id FROM event WHERE id = 1').toArray()[0];
    const config = this.loadConfig();
    if (!event || !config) return fail('EVENT_NOT_FOUND', 'no such event (it exists once its first init is stored)', SHORT_NEGATIVE_TTL);
    const nowMs = Date.now();
    const tracks = this.sql.exec<{ descriptor: string }>('SELECT descriptor FROM tracks ORDER BY created_at, track').toArray().map((r) => JSON.parse(r.descriptor) as TrackDescriptor);
    const start = windowStartK(nowMs, config);
    const rows = this.sql.exec<{ track: string; k: number }>('SELECT DISTINCT track, k FROM candidates WHERE k >= ? ORDER BY track, k', start).toArray();
    const byTrack = new Map<string, number[]>();
    for (const r of rows) byTrack.set(r.track, [...(byTrack.get(r.track) ?? []), r.k]);
    const firstSegment = rows.length ? Math.min(...rows.map((r) => r.k)) : Math.floor(nowMs / config.segmentDurationMs);
    const lastSegmentByTrack: Record<string, number> = {};
    const gapsByTrack: Record<string, number[]> = {};
    for (const [track, ks] of byTrack) {
      const last = ks[ks.length - 1];
      lastSegmentByTrack[track] = last;
      const have = new Set(ks);
      const gaps: number[] = [];
      for (let k = firstSegment; k <= last; k++) if (!have.has(k)) gaps.push(k);
      if (gaps.length) gapsByTrack[track] = gaps;
    }
    return ok({ eventId: event.event_id, config, tracks, nowMs, firstSegment, lastSegmentByTrack, gapsByTrack });
  }

  /** Storage footprint, for operators and for tests of eviction. */
  async storageStats(): Promise<{ candidates: number; chunks: number; bytes: number; oldestK: number | null; newestK: number | null }> {
    const c = this.sql.exec<{ n: number; bytes: number | null; lo: number | null; hi: number | null }>('SELECT COUNT(*) AS n, SUM(size) AS bytes, MIN(k) AS lo, MAX(k) AS hi FROM candidates').one();
    const chunks = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM segment_chunks').one().n;
    return { candidates: c.n, chunks, bytes: c.bytes ?? 0, oldestK: c.lo, newestK: c.hi };
  }

  // ---- DVR eviction -------------------------------------------------------------------------

  /** Delete every candidate that left the DVR window; keep running while anything is stored. */
  override async alarm(): Promise<void> {
    const config = this.loadConfig();
    if (!config) return;
    const start = windowStartK(Date.now(), config);
    this.ctx.storage.transactionSync(() => {
      this.sql.exec('DELETE FROM segment_chunks WHERE k < ?', start);
      this.sql.exec('DELETE FROM candidates WHERE k < ?', start);
    });
    const left = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM candidates').one().n;
    if (left > 0) await this.ctx.storage.setAlarm(Date.now() + EVICTION_INTERVAL_MS);
  }

  private async scheduleEviction(inMs: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    const at = Date.now() + inMs;
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  // ---- helpers ------------------------------------------------------------------------------

  private loadConfig(): EventConfig | undefined {
    if (this.config) return this.config;
    const row = this.sql.exec<{ config: string }>('SELECT config FROM event WHERE id = 1').toArray()[0];
    if (row) this.config = EventConfig.parse(JSON.parse(row.config));
    return this.config;
  }

  private findTrack(track: string): OriginResult<{ config: EventConfig; descriptor: TrackDescriptor }> {
    const config = this.loadConfig();
    if (!config) return fail('EVENT_NOT_FOUND', 'no such event (it exists once its first init is stored)', SHORT_NEGATIVE_TTL);
    const row = this.sql.exec<{ descriptor: string }>('SELECT descriptor FROM tracks WHERE track = ?', track).toArray()[0];
    if (!row) return fail('TRACK_NOT_FOUND', `no track ${track} in this event`, SHORT_NEGATIVE_TTL);
    return ok({ config, descriptor: JSON.parse(row.descriptor) as TrackDescriptor });
  }

  private readSelected(track: string, k: number, config: EventConfig, region: string): { bytes: Bytes; candidate: Candidate } | undefined {
    const rows = this.sql
      .exec<{ pipeline: string; region: string; defects: string }>('SELECT pipeline, region, defects FROM candidates WHERE track = ? AND k = ?', track, k)
      .toArray()
      .map((r) => ({ pipeline: r.pipeline, region: r.region, defects: JSON.parse(r.defects) as string[] }));
    const chosen = selectCandidate(rows, config.pipelines, region);
    if (!chosen) return undefined;
    const pieces = this.sql
      .exec<{ bytes: ArrayBuffer }>('SELECT bytes FROM segment_chunks WHERE track = ? AND k = ? AND pipeline = ? AND region = ? ORDER BY seq', track, k, chosen.pipeline, chosen.region)
      .toArray()
      .map((r) => r.bytes);
    return { bytes: join(pieces), candidate: chosen };
  }

  /** Resolve when `key` is published or at `untilMs`, whichever comes first. */
  private waitFor(key: string, untilMs: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(key) ?? new Set();
      this.waiters.set(key, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, untilMs - Date.now()));
      set.add(done);
    });
  }

  private wake(key: string): void {
    for (const done of [...(this.waiters.get(key) ?? [])]) done();
  }
}

function rank(order: string[], pipeline: string): number {
  const i = order.indexOf(pipeline);
  return i === -1 ? order.length : i;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function digestHex(bytes: Bytes): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
