import { DurableObject } from 'cloudflare:workers';
import { expectedPublishMs, segmentNumberAt } from '../contract/epoch.ts';
import { defaultEventConfig, EventConfig, type EventConfigPatch } from '../contract/event-config.ts';
import { EVENT_STATE_HEADER } from '../contract/event-state.ts';
import { streamsParts } from '../contract/low-latency.ts';
import type { EndRequest, Mask, MaskRequest } from '../contract/operator.ts';
import type { ManifestHold, ManifestInput, TrackDescriptor } from '../contract/track.ts';
import type { InitInfo } from '../packager/init-info.ts';
import { inspectSegment } from '../packager/inspect.ts';
import type { DrmConfig } from '../contract/drm-config.ts';
import { captionTrackId, MAX_CUE_LEAD_MS, MAX_CUE_MS } from '../contract/captions.ts';
import type { Cue } from '../packager/captions/cue.ts';
import { writeStppInit, writeStppSegment } from '../packager/captions/stpp.ts';
import { writeVttSegment } from '../packager/captions/webvtt-segment.ts';
import { CaptionStore } from './caption-store.ts';
import { join, split } from './chunks.ts';
import { DrmSettings } from './drm-settings.ts';
import { EventControls, isMasked } from './event-controls.ts';
import { type FaultMode, FaultSwitch, type FaultView } from './fault-switch.ts';
import { HotSegments } from './hot-segments.ts';
import { LoadGauge } from './load-gauge.ts';
import type { PipelineHealth } from './pipeline-health.ts';
import { fail, ok, type OriginResult } from './result.ts';
import type { OriginFact } from '../contract/origin-facts.ts';
import { SCHEMA } from './schema.ts';
import { selectCandidate, type Candidate } from './select-candidate.ts';
import { ServedCandidates } from './served-candidates.ts';
import {
  isDvrRequest,
  isOutsideWindow,
  newestDueK,
  outsideWindowReason,
  segmentTiming,
  windowStartK,
} from './segment-timing.ts';
import { measuredBitrates, withMeasuredBitrate } from './measured-bitrate.ts';
import { describeCaptionTrack } from '../packager/template-metadata.ts';
import { listedSegments } from './listed-segments.ts';
import { LiveParts, type PartsView } from './live-parts.ts';
import type { StoredPart } from './parts.ts';
import { partStream } from './part-stream.ts';
import { partGridOf } from './part-timing.ts';
import { RequestCounts } from './request-counts.ts';
import { SegmentIndex } from './segment-index.ts';
import { type ReceivedSplice, SpliceStore } from './splices.ts';
import {
  MAX_SPLICE_LAG_MS,
  MAX_SPLICE_LEAD_MS,
  manifestSplices,
  type Splice,
  sectionProblem,
  spliceOnBoundary,
} from '../contract/splices.ts';
import { type BudgetState, StorageBudget } from './storage-budget.ts';
import type { CmcdReport } from '../contract/cmcd-report.ts';
import { ViewerCounts } from './viewer-counts.ts';

/** Negative answers about things that may appear any moment (an event or track not yet ingested). */
const MISSING: OriginFact = { state: 'missing' };
const GONE: OriginFact = { state: 'gone', recent: false };
/**
 * A live-edge segment that missed its deadline may still come from a late pipeline: its 410 must
 * not be kept, so a player's retry reaches the origin again.
 */
const RECENTLY_GONE: OriginFact = { state: 'gone', recent: true };
/** Shed load: clients come back in a few seconds (DESIGN §4). */
const SHED: OriginFact = { state: 'shed', retryAfterMs: 5000 };
/** A low-latency segment request answered as any other: the edge asks for the segment itself (getSegmentChunked). */
const WHOLE = { whole: true } as const;
/** Operator views: never kept by a shared cache. */
const PRIVATE: OriginFact = { state: 'private' };
/** A held request re-checks whether its segment is still coming this often (besides being woken by its PUT). */
const HOLD_RECHECK_MS = 500;
/** The longest a media playlist refresh waits for its next segment, whatever the pipeline delay. */
const MAX_MANIFEST_HOLD_MS = 10_000;
/** A caption segment is cached briefly until this long after it is due (late cues still change it), then for good. */
const CAPTION_SETTLE_MS = 10_000;
/** How often the eviction alarm runs while the object holds segments. */
const EVICTION_INTERVAL_MS = 30_000;

/** Bytes that own a plain ArrayBuffer (what Response bodies and WebCrypto accept). */
type Bytes = Uint8Array<ArrayBuffer>;

/** What every successful player-facing answer carries besides its body. */
export interface Stamped {
  /** The x-event-state header value (contract/event-state.ts). */
  eventState: string;
  /** Event version, for ETags and cache keys. */
  version: number;
}

export interface StoredSegment extends Stamped {
  bytes: Bytes;
  kind: TrackDescriptor['kind'];
  candidate: Candidate;
  /** SHA-256 (hex) of the bytes: the ETag's content part. */
  sha256: string;
  /** When this candidate was stored (ms since the epoch). */
  receivedAt: number;
  /** Caption segments (written from cues): false while late cues may still change it. */
  settled?: boolean;
}

export interface StoredInit extends Stamped {
  bytes: Bytes;
  kind: TrackDescriptor['kind'];
  pipeline: string;
  sha256: string;
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

/** A low-latency segment request's answer (getSegmentChunked): the parts as they land, or "ask for the whole segment". */
export type ChunkedSegment =
  | { whole: true }
  | ({
      stream: ReadableStream<Uint8Array>;
      kind: TrackDescriptor['kind'];
      /** The pipeline whose part 0 starts the stream (later parts: the preferred copy of each). */
      pipeline: string;
      receivedAt: number;
    } & Stamped);

/** GET /api/events/{event}/state: everything an operator needs to see about the event here. */
export interface EventStateView {
  event: string;
  version: number;
  ended: boolean;
  endedAt: string | null;
  endK: number | null;
  /** The back-to-back event scheduled after this one. */
  next: { eventId: string; atK: number } | null;
  config: EventConfig;
  masks: Mask[];
  /** Stored ad breaks, earliest first (contract/splices.ts), with when this origin received each. */
  splices: ReceivedSplice[];
  pipelines: {
    pipeline: string;
    status: string;
    lastK: number;
    latenessMs: number;
    lastReceivedAt: string;
    segments: number;
    defective: number;
    defects: Record<string, number>;
  }[];
  /** Segment requests admitted in the last second (the load gauge). */
  segmentRequestsLastSecond: number;
  /** Player segment requests that reached this object, per segment (the edge shield's proof). */
  segmentRequests: ReturnType<RequestCounts['view']>;
  /** The storage budget (origin/storage-budget.ts): what is stored, the limit, and its alert. */
  storage: ReturnType<StorageBudget['view']>;
  /** What players' CMCD says, as the edge isolates reported it (origin/viewer-counts.ts; docs/cmcd.md). */
  viewers: ReturnType<ViewerCounts['view']>;
  /** Segments served to players per pipeline, and the pipeline of the newest K served (origin/served-candidates.ts). */
  servedByPipeline: Record<string, number>;
  activeCandidate: { pipeline: string; k: number } | null;
  header: string;
}

/** The ingest route's packaging inputs for one (track, pipeline): see EventOrigin.ingestDrm. */
export interface IngestDrm {
  drm: DrmConfig | null;
  init: Bytes | null;
  initStored: boolean;
}

interface CandidateRow extends Candidate {
  sha256: string;
  receivedAt: number;
  /** The event version under which players were served this copy as immutable (null: never). */
  servedVersion: number | null;
}

/**
 * The live origin for one event in one region, named `${event}:${region}`. It stores every
 * candidate of every segment with its inspection, answers segment requests with live-edge
 * semantics (DESIGN §4), selects among candidates (DESIGN §5) and applies operator controls.
 * RPC methods return OriginResult values; the edge turns failures into HTTP answers.
 */
export class EventOrigin extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Requests held for a live-edge segment, keyed `${track}/${k}`; woken by putSegment. */
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly controls: EventControls;
  private readonly drm: DrmSettings;
  private readonly gauge = new LoadGauge();
  private readonly requests = new RequestCounts();
  private readonly served = new ServedCandidates();
  /** Players' CMCD as edge isolates report it (in memory: see origin/viewer-counts.ts for why). */
  private readonly viewers = new ViewerCounts(Date.now());
  private readonly captions: CaptionStore;
  /** Ad breaks (origin/splices.ts), read by every manifest. */
  private readonly splices: SpliceStore;
  /** The newest segment bytes, so GETs right after a publish skip the SQLite read (origin/hot-segments.ts). */
  private readonly hot = new HotSegments();
  /** Track descriptors never change once stored (INSERT OR IGNORE): parsed once per object. */
  private readonly descriptors = new Map<string, TrackDescriptor>();
  private readonly budget: StorageBudget;
  /** An injected fault of the player RPCs (local development only; origin/fault-switch.ts). */
  private readonly fault = new FaultSwitch();
  /** Which K are stored, per track and pipeline (origin/segment-index.ts); built on first use. */
  private index: SegmentIndex | undefined;
  private config: EventConfig | undefined;
  /** Chunked CMAF parts at the live edge, in memory (origin/live-parts.ts, docs/latency.md). */
  private readonly parts = new LiveParts({
    allowed: (pipeline, k) => !isMasked(this.controls.masks, pipeline, k),
    lastSegment: (track) => {
      const index = this.segmentIndex();
      const newest = [...index.pipelinesOf(track).keys()].map((p) => index.newest(track, p) ?? -1);
      return newest.length > 0 && Math.max(...newest) >= 0 ? Math.max(...newest) : undefined;
    },
  });
  private eventId: string | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    for (const statement of SCHEMA) this.sql.exec(statement);
    this.controls = new EventControls(this.sql);
    this.drm = new DrmSettings(this.sql);
    this.captions = new CaptionStore(this.sql);
    this.splices = new SpliceStore(this.sql);
    this.budget = new StorageBudget(this.sql);
  }

  // ---- ingest -------------------------------------------------------------------------------

  /** Store the CMAF header of `track` from `pipeline`: 201 first time, 204 identical, 409 different. */
  async putInit(req: {
    event: string;
    pipeline: string;
    track: string;
    bytes: Bytes;
    info: InitInfo;
    descriptor: TrackDescriptor;
  }): Promise<OriginResult<{ status: 201 | 204 }>> {
    const stored = this.sql
      .exec<{ bytes: ArrayBuffer }>('SELECT bytes FROM inits WHERE track = ? AND pipeline = ?', req.track, req.pipeline)
      .toArray()[0];
    if (stored) {
      if (sameBytes(new Uint8Array(stored.bytes), req.bytes)) return ok({ status: 204 });
      return fail(
        'INIT_CONFLICT',
        `pipeline ${req.pipeline} already stored a different init for track ${req.track}; an init never changes during an event (start a new event or track id)`,
      );
    }
    const drm = this.drm.get();
    if (drm && req.info.protection?.scheme !== drm.scheme)
      return fail(
        'DRM_LOCKED',
        `event ${req.event} is protected with ${drm.scheme}; this init is not (its DRM changed while the init was packaged: retry)`,
      );
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        'INSERT OR IGNORE INTO event (id, event_id, config, created_at) VALUES (1, ?, ?, ?)',
        req.event,
        JSON.stringify(drm ? { ...defaultEventConfig, drm } : defaultEventConfig),
        now,
      );
      this.sql.exec(
        'INSERT OR IGNORE INTO tracks (track, descriptor, created_at) VALUES (?, ?, ?)',
        req.track,
        JSON.stringify(req.descriptor),
        now,
      );
      this.sql.exec(
        'INSERT INTO inits (track, pipeline, bytes, info, received_at) VALUES (?, ?, ?, ?, ?)',
        req.track,
        req.pipeline,
        req.bytes.slice().buffer,
        JSON.stringify(req.info),
        now,
      );
    });
    return ok({ status: 201 });
  }

  /**
   * Inspect and store one candidate of segment K. 412 without this pipeline's init, 409 after the
   * event's end, 400 for a K outside [DVR window start, live edge + maxSegmentsAhead] or a body
   * that cannot be parsed; 204 when the same bytes are already stored (idempotent retry). A
   * different copy from the same pipeline and region replaces the stored one (201) only while
   * players have not been served that one as immutable under the current event version; after
   * that it is 409 SEGMENT_IMMUTABLE until an operator bumps the version.
   */
  async putSegment(req: PutSegmentRequest): Promise<OriginResult<{ status: 201 | 204; defects: string[] }>> {
    // The only await before the writes: from here on nothing interleaves with this request.
    const sha256 = await digestHex(req.bytes);
    const initRow = this.sql
      .exec<{ info: string }>('SELECT info FROM inits WHERE track = ? AND pipeline = ?', req.track, req.pipeline)
      .toArray()[0];
    if (!initRow)
      return fail(
        'INIT_MISSING',
        `no init.mp4 stored for event ${req.event}, pipeline ${req.pipeline}, track ${req.track}: PUT it before segments`,
      );
    const { endK } = this.controls;
    if (endK !== null && req.k > endK)
      return fail('EVENT_ENDED', `event ${req.event} ended with segment ${endK}; segment ${req.k} is not accepted`);
    const config = this.loadConfig()!;
    const implausible = this.implausibleK(req.k, Date.now(), config);
    if (implausible) return fail('SEGMENT_NUMBER_IMPLAUSIBLE', implausible);
    const inspection = inspectSegment(req.bytes, JSON.parse(initRow.info) as InitInfo, req.k, config.segmentDurationMs);
    if (inspection.malformed)
      return fail('MEDIA_MALFORMED', `segment ${req.k} cannot be parsed: ${inspection.malformed}`);
    const defects = [...new Set<string>([...inspection.defects, ...req.publisherDefects])];
    const key = [req.track, req.k, req.pipeline, req.region] as const;
    const existing = this.sql
      .exec<{ sha256: string; size: number; served_version: number | null }>(
        `SELECT c.sha256, c.size, s.version AS served_version FROM candidates c
         LEFT JOIN served s ON s.track = c.track AND s.k = c.k AND s.pipeline = c.pipeline AND s.region = c.region
         WHERE c.track = ? AND c.k = ? AND c.pipeline = ? AND c.region = ?`,
        ...key,
      )
      .toArray()[0];
    if (existing && existing.sha256 === sha256 && existing.size === req.bytes.byteLength)
      return ok({ status: 204, defects });
    if (existing && existing.served_version === this.controls.version)
      return fail(
        'SEGMENT_IMMUTABLE',
        `segment ${req.k} of track ${req.track} from pipeline ${req.pipeline} was already served to players as immutable (event version ${this.controls.version}); different bytes under the same URL are refused. To correct it, bump the event version (POST /api/events/${req.event}/version), then PUT it again`,
      );
    const now = Date.now();
    let health: PipelineHealth | undefined;
    this.ctx.storage.transactionSync(() => {
      this.sql.exec('DELETE FROM segment_chunks WHERE track = ? AND k = ? AND pipeline = ? AND region = ?', ...key);
      // A copy served under an older version may be replaced; the new one has not been served.
      this.sql.exec('DELETE FROM served WHERE track = ? AND k = ? AND pipeline = ? AND region = ?', ...key);
      this.sql.exec(
        'INSERT OR REPLACE INTO candidates (track, k, pipeline, region, size, sha256, defects, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        ...key,
        req.bytes.byteLength,
        sha256,
        JSON.stringify(defects),
        now,
      );
      split(req.bytes).forEach((piece, seq) =>
        this.sql.exec(
          'INSERT INTO segment_chunks (track, k, pipeline, region, seq, bytes) VALUES (?, ?, ?, ?, ?, ?)',
          ...key,
          seq,
          piece,
        ),
      );
      health = this.controls.writeSegmentHealth(req.pipeline, req.k, defects, now, config);
    });
    // Committed: only now does memory follow (a failed write above left it as it was).
    if (health) this.controls.applyHealth(health);
    this.budget.apply(this.budget.state(), req.bytes.byteLength - (existing?.size ?? 0));
    this.segmentIndex().add(req.track, req.pipeline, req.k);
    // The RPC gave this object its own copy of the bytes; nothing changes them from here on.
    this.hot.put(key.join('/'), req.k, sha256, req.bytes);
    this.wake(`${req.track}/${req.k}`);
    this.parts.segmentStored();
    // The segment is stored whatever happens next: a failed eviction is the alarm's to retry.
    try {
      this.enforceBudget(Date.now(), config);
    } catch (e) {
      console.error(`event ${req.event}: storage budget eviction failed (the alarm retries it): ${e}`);
    }
    await this.scheduleEviction(this.windowStart(Date.now(), config) > req.k ? 1000 : EVICTION_INTERVAL_MS);
    return ok({ status: 201, defects });
  }

  /** Part n of segment K (chunked CMAF, docs/latency.md): checked like a segment, kept in memory only. */
  async putPart(req: {
    event: string;
    pipeline: string;
    track: string;
    k: number;
    n: number;
    bytes: Bytes;
  }): Promise<OriginResult<{ status: 201 | 204 }>> {
    const found = this.findTrack(req.track);
    const initRow = this.sql
      .exec<{ info: string }>('SELECT info FROM inits WHERE track = ? AND pipeline = ?', req.track, req.pipeline)
      .toArray()[0];
    const kind = found.ok ? found.value.descriptor.kind : 'text';
    if (!found.ok || !initRow || kind === 'text')
      return fail(
        'INIT_MISSING',
        `no init.mp4 stored for event ${req.event}, pipeline ${req.pipeline}, track ${req.track}: PUT it before parts`,
      );
    const { config } = found.value;
    const { endK } = this.controls;
    if (endK !== null && req.k > endK)
      return fail(
        'EVENT_ENDED',
        `event ${req.event} ended with segment ${endK}; part ${req.k}.${req.n} is not accepted`,
      );
    const implausible = this.implausibleK(req.k, Date.now(), config);
    if (implausible) return fail('SEGMENT_NUMBER_IMPLAUSIBLE', implausible);
    return this.parts.put(req, JSON.parse(initRow.info) as InitInfo, kind);
  }

  // ---- player-facing ------------------------------------------------------------------------

  /** Part n of segment K, held while it is about due (origin/part-timing.ts). */
  async getPart(
    track: string,
    k: number,
    n: number,
  ): Promise<OriginResult<StoredPart & { k: number; kind: TrackDescriptor['kind']; sha256: string } & Stamped>> {
    await this.fault.enter();
    const found = this.findTrack(track);
    if (!found.ok) return found;
    const { config, descriptor } = found.value;
    const part = await this.parts.get(track, k, n, config);
    if (!part.ok) return this.failStamped(part.code, part.message, part.fact ?? MISSING);
    return ok({
      ...part.value,
      kind: descriptor.kind,
      sha256: await digestHex(part.value.bytes),
      ...this.stamp(config),
    });
  }

  /**
   * Segment K for a low-latency player (`{K}.m4s?latency=low`, docs/latency.md "Chunked transfer"):
   * while K is being written, a stream that starts with part 0 (held as the part route holds it:
   * 404 far ahead, held while due; LiveParts.get) and carries each further part as it lands
   * (origin/part-stream.ts). `whole` when the standard segment answer applies instead, checked at
   * every wake of that hold: K is stored, or due (contract/low-latency.ts streamsParts, the edge's
   * rule too), or the event ended before it, or it is a caption track; or part 0 never came by its
   * deadline. The segment's own hold and 410 rules then decide.
   */
  async getSegmentChunked(track: string, k: number): Promise<OriginResult<ChunkedSegment>> {
    await this.fault.enter();
    const found = this.findTrack(track);
    if (!found.ok) return found;
    const { config, descriptor } = found.value;
    if (descriptor.kind === 'text') return ok(WHOLE);
    const { parts } = partGridOf(config);
    this.requests.add(track, k);
    const wholeApplies = () => {
      const { endK, masks } = this.controls;
      if (!streamsParts(k, Date.now(), config) || (endK !== null && k > endK)) return WHOLE;
      return this.candidateRows(track, k).some((c) => !isMasked(masks, c.pipeline, k)) ? WHOLE : undefined;
    };
    const first = await this.parts.get(track, k, 0, config, wholeApplies);
    if (!first.ok)
      return first.code === 'SEGMENT_GONE'
        ? ok(WHOLE)
        : this.failStamped(first.code, first.message, first.fact ?? MISSING);
    if ('whole' in first.value) return ok(first.value);
    if (!this.gauge.admit(Date.now(), 'live', config))
      return this.failStamped('OVERLOADED', 'origin is shedding live-edge requests; retry in 5 s', SHED);
    return ok({
      stream: partStream(first.value.bytes, parts, (n) => this.parts.following(track, k, n, config)),
      kind: descriptor.kind,
      pipeline: first.value.pipeline,
      receivedAt: first.value.receivedAt,
      ...this.stamp(config),
    });
  }

  /**
   * What an LL-HLS media playlist adds to the manifest input: the parts of every track. With
   * `block`, first wait as a blocking playlist reload asks (origin/live-parts.ts awaitPlaylist).
   */
  async partsView(block?: { track: string; msn: number; part?: number }): Promise<OriginResult<PartsView>> {
    await this.fault.enter();
    const config = this.loadConfig();
    if (!config) return fail('EVENT_NOT_FOUND', 'no such event (it exists once its first init is stored)', MISSING);
    if (block) {
      const waited = await this.parts.awaitPlaylist(block.track, block.msn, block.part, config);
      if (!waited.ok) return this.failStamped(waited.code, waited.message, waited.fact ?? MISSING);
    }
    return ok(this.parts.view(config));
  }

  /** The init players should use (the first pipeline in preference order that has one), or exactly `pipeline`'s. */
  async getInit(track: string, pipeline?: string): Promise<OriginResult<StoredInit>> {
    if (pipeline === undefined) await this.fault.enter();
    const found = this.findTrack(track);
    if (!found.ok) return found;
    const { config, descriptor } = found.value;
    if (descriptor.kind === 'text') {
      // Written here, not ingested: the same bytes for every pipeline (docs/captions.md).
      const bytes = writeStppInit(descriptor.language ?? 'und');
      return ok({
        bytes,
        kind: 'text',
        pipeline: pipeline ?? 'captions',
        sha256: await digestHex(bytes),
        ...this.stamp(config),
      });
    }
    const rows = this.sql
      .exec<{ pipeline: string; bytes: ArrayBuffer }>('SELECT pipeline, bytes FROM inits WHERE track = ?', track)
      .toArray();
    const order = config.pipelines;
    rows.sort((a, b) => rank(order, a.pipeline) - rank(order, b.pipeline) || a.pipeline.localeCompare(b.pipeline));
    const row = pipeline === undefined ? rows[0] : rows.find((r) => r.pipeline === pipeline);
    if (!row)
      return this.failStamped('CANDIDATE_NOT_FOUND', `pipeline ${pipeline} stored no init for track ${track}`, PRIVATE);
    const bytes = new Uint8Array(row.bytes);
    return ok({
      bytes,
      kind: descriptor.kind,
      pipeline: row.pipeline,
      sha256: await digestHex(bytes),
      ...this.stamp(config),
    });
  }

  /**
   * Segment K of `track`, selected among candidates (masks honoured). A live-edge segment that is
   * due is held until a clean candidate arrives; a defective one is served once no pipeline that
   * is up still owes a copy of K (or `defectiveGraceMs` after it arrived, or at the deadline).
   */
  async getSegment(track: string, k: number, region: string): Promise<OriginResult<StoredSegment>> {
    await this.fault.enter();
    this.requests.add(track, k);
    const found = this.findTrack(track);
    if (!found.ok) return found;
    const { config, descriptor } = found.value;
    if (descriptor.kind === 'text') return this.getTextSegment(track, k, 'stpp', region);
    const now = Date.now();
    const windowStart = this.windowStart(now, config);
    const timing = segmentTiming(k, now, config, this.pipelinesPast(track, k, now, config), windowStart);
    if (isOutsideWindow(k, now, config, windowStart))
      return this.failStamped('SEGMENT_GONE', outsideWindowReason(k, now, config, windowStart), GONE);
    const { endK } = this.controls;
    if (endK !== null && k > endK)
      return this.failStamped('SEGMENT_GONE', `the event ended with segment ${endK}`, GONE);
    const kind = isDvrRequest(k, now, config) ? 'dvr' : 'live';
    if (!this.gauge.admit(now, kind, config)) {
      return this.failStamped(
        'OVERLOADED',
        `origin is shedding ${kind === 'dvr' ? 'DVR' : 'live-edge'} requests; retry in 5 s`,
        SHED,
      );
    }

    let chosen = this.select(track, k, config, region);
    if (!chosen && timing.kind === 'early') {
      return this.failStamped(
        'SEGMENT_NOT_YET_AVAILABLE',
        `segment ${k} is due at ${new Date(timing.dueMs).toISOString()}`,
        { state: 'early', dueMs: timing.dueMs },
      );
    }
    if (timing.kind === 'hold' && (!chosen || chosen.defects.length > 0))
      chosen = await this.holdForClean(track, k, config, region, timing.untilMs);
    if (!chosen) {
      if (timing.kind === 'gone')
        return this.failStamped('SEGMENT_GONE', timing.reason, timing.recent ? RECENTLY_GONE : GONE);
      const reason =
        timing.kind === 'hold'
          ? `segment ${k} was not published before its deadline`
          : `segment ${k} has no candidate that may be served`;
      return this.failStamped('SEGMENT_GONE', reason, RECENTLY_GONE);
    }
    const bytes = this.readBytes(track, k, chosen);
    const defects = this.fault.defects(chosen.defects);
    // A clean copy is served as immutable (the edge's long TTL): from now on it is the answer for
    // (track, K) under this version and is never replaced by different bytes (putSegment).
    // Written before the answer leaves: the output gate holds the answer until it is stored.
    if (defects.length === 0 && chosen.servedVersion !== this.controls.version)
      this.sql.exec(
        'INSERT OR REPLACE INTO served (track, k, pipeline, region, version) VALUES (?, ?, ?, ?, ?)',
        track,
        k,
        chosen.pipeline,
        chosen.region,
        this.controls.version,
      );
    this.served.record(chosen.pipeline, k);
    return ok({
      bytes,
      kind: descriptor.kind,
      candidate: { pipeline: chosen.pipeline, region: chosen.region, defects },
      sha256: chosen.sha256,
      receivedAt: chosen.receivedAt,
      ...this.stamp(config),
    });
  }

  /** Exactly the stored candidate of `pipeline` in this region's object, for operators. No masks, no selection. */
  async getCandidate(track: string, k: number, pipeline: string): Promise<OriginResult<StoredSegment>> {
    const found = this.findTrack(track);
    if (!found.ok) return found;
    const { config, descriptor } = found.value;
    const c = this.candidateRows(track, k).find((r) => r.pipeline === pipeline);
    if (!c)
      return this.failStamped(
        'CANDIDATE_NOT_FOUND',
        `pipeline ${pipeline} stored no segment ${k} of track ${track} in this region`,
        PRIVATE,
      );
    return ok({
      bytes: this.readBytes(track, k, c),
      kind: descriptor.kind,
      candidate: { pipeline: c.pipeline, region: c.region, defects: c.defects },
      sha256: c.sha256,
      receivedAt: c.receivedAt,
      ...this.stamp(config),
    });
  }

  // ---- captions (docs/captions.md) -------------------------------------------------------------

  /**
   * Store cues of a declared caption language. With `k` (the ingest PUT of {K}.vtt) every cue
   * must overlap segment K. Cues must end inside the DVR window and start at most an hour ahead.
   * Checked in full before anything is written: a rejected request stores nothing.
   */
  async putCues(req: {
    event: string;
    language?: string;
    track?: string;
    cues: Cue[];
    k?: number;
  }): Promise<OriginResult<{ status: 201 | 204; added: number; track: string }>> {
    const config = this.loadConfig();
    if (!config) return fail('EVENT_NOT_FOUND', `no event ${req.event} (it exists once its first init is stored)`);
    const declared = config.captions.find((c) =>
      req.track !== undefined
        ? captionTrackId(c.language) === req.track
        : c.language.toLowerCase() === req.language?.toLowerCase(),
    );
    if (!declared) {
      const what = req.track !== undefined ? `track ${req.track}` : `language ${req.language}`;
      const have = config.captions.map((c) => `${c.language} (${captionTrackId(c.language)})`).join(', ') || 'none';
      return fail(
        req.track !== undefined ? 'TRACK_NOT_FOUND' : 'BAD_BODY',
        `${what} is not a caption track of event ${req.event} (declared: ${have}); declare it with PATCH /api/events/${req.event}/config {"captions": [...]}`,
      );
    }
    const now = Date.now();
    const D = config.segmentDurationMs;
    const windowStartMs = this.windowStart(now, config) * D;
    for (const [i, c] of req.cues.entries()) {
      const at = `cue ${i + 1} (${new Date(c.startMs).toISOString()} → ${new Date(c.endMs).toISOString()})`;
      if (c.endMs - c.startMs > MAX_CUE_MS) return fail('BAD_BODY', `${at} lasts more than ${MAX_CUE_MS / 1000} s`);
      if (c.endMs <= windowStartMs)
        return fail('BAD_BODY', `${at} ended before the DVR window starts (${new Date(windowStartMs).toISOString()})`);
      if (c.startMs > now + MAX_CUE_LEAD_MS)
        return fail('BAD_BODY', `${at} starts more than ${MAX_CUE_LEAD_MS / 60_000} min from now`);
      // Segments are cached for good CAPTION_SETTLE_MS after they are due: a cue reaching one of
      // those would be stored but never seen by players that already have the segment.
      const settledUntilMs =
        expectedPublishMs(Math.floor(c.startMs / D), D, config.pipelineDelayMs) + CAPTION_SETTLE_MS;
      if (settledUntilMs < now)
        return fail(
          'BAD_BODY',
          `${at} is too late: its segment was final at ${new Date(settledUntilMs).toISOString()} (cues are accepted until ${CAPTION_SETTLE_MS / 1000} s after their segment is due)`,
        );
      if (req.k !== undefined && (c.endMs <= req.k * D || c.startMs >= (req.k + 1) * D))
        return fail(
          'BAD_BODY',
          `${at} is not inside segment ${req.k} [${new Date(req.k * D).toISOString()}, ${new Date((req.k + 1) * D).toISOString()})`,
        );
    }
    const language = declared.language;
    let added = 0;
    this.ctx.storage.transactionSync(() => {
      added = this.captions.add(language, req.cues, now);
    });
    return ok({ status: added > 0 ? 201 : 204, added, track: captionTrackId(language) });
  }

  /**
   * Segment K of a caption track, written from the cues that overlap it: WebVTT for HLS, stpp
   * for DASH. Live-edge semantics as for media (DESIGN §4): 404 while K is not due (TTL until
   * it is), 410 outside the DVR window or after the event's end. A K that is due within one D is
   * held until it is due, so cues posted in real time for it are in; after that it is answered
   * at once, empty or not: a K without cues is an empty segment, never a 404.
   */
  async getTextSegment(
    track: string,
    k: number,
    format: 'vtt' | 'stpp',
    region: string,
  ): Promise<OriginResult<StoredSegment & { body: string | null }>> {
    // stpp comes through getSegment, which already went through the fault switch.
    if (format === 'vtt') await this.fault.enter();
    const found = this.findTrack(track);
    if (!found.ok) return found;
    const { config, descriptor } = found.value;
    if (descriptor.kind !== 'text')
      return this.failStamped(
        'TRACK_NOT_FOUND',
        `track ${track} is not a caption track: its segments are {K}.m4s`,
        MISSING,
      );
    const now = Date.now();
    const windowStart = this.windowStart(now, config);
    const timing = segmentTiming(k, now, config, true, windowStart);
    // Only the window makes a caption segment gone: it never waits for a pipeline.
    if (isOutsideWindow(k, now, config, windowStart))
      return this.failStamped('SEGMENT_GONE', outsideWindowReason(k, now, config, windowStart), GONE);
    const { endK } = this.controls;
    if (endK !== null && k > endK)
      return this.failStamped('SEGMENT_GONE', `the event ended with segment ${endK}`, GONE);
    if (!this.gauge.admit(now, isDvrRequest(k, now, config) ? 'dvr' : 'live', config))
      return this.failStamped('OVERLOADED', 'origin is shedding load; retry in 5 s', SHED);
    if (timing.kind === 'early') {
      return this.failStamped(
        'SEGMENT_NOT_YET_AVAILABLE',
        `segment ${k} is due at ${new Date(timing.dueMs).toISOString()}`,
        { state: 'early', dueMs: timing.dueMs },
      );
    }
    const D = config.segmentDurationMs;
    const dueMs = expectedPublishMs(k, D, config.pipelineDelayMs);
    if (dueMs > now) await new Promise((r) => setTimeout(r, dueMs - now));
    const language = descriptor.language ?? 'und';
    const cues = this.captions.overlapping(language, k * D, (k + 1) * D);
    const body = format === 'vtt' ? writeVttSegment(cues, k, D) : null;
    const bytes = body !== null ? new TextEncoder().encode(body) : writeStppSegment(cues, k, D, language);
    return ok({
      bytes,
      body,
      kind: 'text',
      candidate: { pipeline: 'captions', region, defects: [] },
      sha256: await digestHex(bytes),
      receivedAt: Date.now(),
      // Cues may still be posted a little late for a K just due: cache it briefly until then.
      settled: Date.now() - dueMs > CAPTION_SETTLE_MS,
      ...this.stamp(config),
    });
  }

  /**
   * Everything the DASH/HLS writers need, from segment-template metadata only. The stored K come
   * from the in-memory segment index, not from a query per K: O(tracks) work whatever the window
   * and however long its gaps (origin/listed-segments.ts).
   */
  async manifestInput(hold?: ManifestHold): Promise<OriginResult<{ input: ManifestInput } & Stamped>> {
    await this.fault.enter();
    if (hold) await this.untilStored(hold);
    const eventId = this.loadEventId();
    const config = this.loadConfig();
    if (!eventId || !config)
      return fail('EVENT_NOT_FOUND', 'no such event (it exists once its first init is stored)', MISSING);
    const nowMs = Date.now();
    const tracks = this.sql
      .exec<{ descriptor: string }>('SELECT descriptor FROM tracks ORDER BY created_at, track')
      .toArray()
      .map((r) => JSON.parse(r.descriptor) as TrackDescriptor)
      // The publisher's ladder order where it declares one (TrackMeta.order), else arrival order.
      .sort((a, b) => (a.order ?? Number.MAX_SAFE_INTEGER) - (b.order ?? Number.MAX_SAFE_INTEGER));
    const start = this.windowStart(nowMs, config);
    // A scheduled next event takes over at atK: this event's manifests list its own K only before that.
    const { next } = this.controls;
    const end = Math.min(this.controls.endK ?? Number.MAX_SAFE_INTEGER, next ? next.atK - 1 : Number.MAX_SAFE_INTEGER);
    const index = this.segmentIndex();
    const listed = listedSegments(
      index.tracks().map((t) => [t, index.pipelinesOf(t)] as const),
      this.controls.masks,
      start,
      end,
      (track, k) => segmentTiming(k, nowMs, config, this.pipelinesPast(track, k, nowMs, config), start).kind === 'gone',
    );
    const firstSegment = listed.firstSegment ?? Math.min(segmentNumberAt(nowMs, config.segmentDurationMs), end);
    const { lastSegmentByTrack, gapsByTrack } = listed;
    // Caption tracks are declared, not ingested: they exist for every K the media has (an empty
    // segment where there are no cues), so they end where the furthest audio/video track ends.
    const mediaLast = Math.max(...Object.values(lastSegmentByTrack));
    const newest = Math.max(firstSegment, mediaLast);
    const measured = measuredBitrates(this.sql, newest, config.segmentDurationMs);
    const withBitrates = tracks.map((t) => withMeasuredBitrate(t, measured.get(t.id)));
    for (const caption of config.captions) {
      const descriptor = describeCaptionTrack(caption);
      withBitrates.push(descriptor);
      if (Number.isFinite(mediaLast)) lastSegmentByTrack[descriptor.id] = mediaLast;
    }
    const input: ManifestInput = {
      eventId,
      config,
      tracks: withBitrates,
      nowMs,
      firstSegment,
      lastSegmentByTrack,
      gapsByTrack,
      ended: this.controls.ended,
    };
    if (next) input.next = { eventId: next.eventId, atK: next.atK };
    const splices = manifestSplices(this.splices.all(), input);
    if (splices.length > 0) input.splices = splices;
    return ok({ input, ...this.stamp(config) });
  }

  /** Storage footprint and budget, for operators and for tests of eviction. */
  async storageStats(): Promise<
    {
      candidates: number;
      chunks: number;
      bytes: number;
      oldestK: number | null;
      newestK: number | null;
      cues: number;
    } & Partial<ReturnType<StorageBudget['view']>>
  > {
    const c = this.sql
      .exec<{ n: number; bytes: number | null; lo: number | null; hi: number | null }>(
        'SELECT COUNT(*) AS n, SUM(size) AS bytes, MIN(k) AS lo, MAX(k) AS hi FROM candidates',
      )
      .one();
    const chunks = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM segment_chunks').one().n;
    const config = this.loadConfig();
    const now = Date.now();
    // bytes is counted here from the rows (the truth), the budget's own figure follows each write.
    const { bytes: _counted, ...budget } = config
      ? this.budget.view(config, this.windowStart(now, config))
      : { bytes: 0 };
    return {
      candidates: c.n,
      chunks,
      bytes: c.bytes ?? 0,
      oldestK: c.lo,
      newestK: c.hi,
      cues: this.captions.count(),
      ...budget,
    };
  }

  // ---- operator controls (docs/operations.md) -------------------------------------------------

  /**
   * Switch an injected fault of this object's player RPCs (origin/fault-switch.ts). The edge calls
   * it only when ALLOW_FAULT_INJECTION is "true" (local development); any event name works.
   */
  async setFault(mode: FaultMode): Promise<FaultView> {
    return this.fault.set(mode);
  }

  /** An edge isolate's CMCD counts since its last report (edge/cmcd-reports.ts): added up in memory. */
  async recordViewers(report: CmcdReport): Promise<void> {
    this.viewers.add(report, Date.now());
  }

  async eventState(): Promise<OriginResult<EventStateView>> {
    const eventId = this.loadEventId();
    const config = this.loadConfig();
    if (!eventId || !config) return fail('EVENT_NOT_FOUND', 'no such event (it exists once its first init is stored)');
    const now = Date.now();
    const c = this.controls;
    const pipelines = c
      .pipelineStates(now, config)
      .map(({ health: h, status }: { health: PipelineHealth; status: string }) => ({
        pipeline: h.pipeline,
        status,
        lastK: h.lastK,
        latenessMs: h.latenessMs,
        lastReceivedAt: new Date(h.lastReceivedAt).toISOString(),
        segments: h.segments,
        defective: h.defective,
        defects: h.defects,
      }));
    return ok({
      event: eventId,
      version: c.version,
      ended: c.ended,
      endedAt: c.endedAt === null ? null : new Date(c.endedAt).toISOString(),
      endK: c.endK,
      next: c.next,
      config,
      masks: c.masks,
      splices: this.splices.received(),
      pipelines,
      segmentRequestsLastSecond: this.gauge.rate(now),
      segmentRequests: this.requests.view(),
      storage: this.budget.view(config, this.windowStart(now, config)),
      viewers: this.viewers.view(now),
      ...this.served.view(),
      header: c.header(now, config),
    });
  }

  /**
   * The hub created (or changed) the event (orchestrator/hub.ts): the object exists from now on
   * with this config, before any init. An object that already exists merges the patch.
   */
  async defineEvent(event: string, patch: EventConfigPatch): Promise<OriginResult<EventStateView>> {
    const existing = this.loadEventId();
    if (existing !== undefined && existing !== event)
      return fail('INTERNAL', `this origin object belongs to event ${existing}, not ${event}`);
    if (existing === undefined) {
      const drm = this.drm.get();
      this.sql.exec(
        'INSERT OR IGNORE INTO event (id, event_id, config, created_at) VALUES (1, ?, ?, ?)',
        event,
        JSON.stringify(drm ? { ...defaultEventConfig, drm } : defaultEventConfig),
        Date.now(),
      );
    }
    return this.updateConfig(patch);
  }

  /** Merge an already validated patch into the config; the next request sees it. */
  async updateConfig(patch: EventConfigPatch): Promise<OriginResult<EventStateView>> {
    const config = this.loadConfig();
    if (!config) return fail('EVENT_NOT_FOUND', 'no such event (it exists once its first init is stored)');
    // A patch replaces the latency block, but the part duration is the bridges' (set from the
    // event definition): a new block without one keeps the event's, or the origin's part grid
    // would leave the bridges' (docs/latency.md).
    const partDurationMs = patch.latency?.partDurationMs ?? config.latency?.partDurationMs;
    const latency = patch.latency && { ...patch.latency, ...(partDurationMs ? { partDurationMs } : {}) };
    const parsed = EventConfig.safeParse({ ...config, ...patch, ...(latency ? { latency } : {}) });
    if (!parsed.success)
      return fail('BAD_BODY', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    this.sql.exec('UPDATE event SET config = ? WHERE id = 1', JSON.stringify(parsed.data));
    this.config = parsed.data;
    // A smaller budget is enforced before the answer, so the operator sees its effect in it.
    this.enforceBudget(Date.now(), parsed.data);
    // A shorter window (or less room ahead): evict right away instead of at the next 30 s alarm.
    if (
      parsed.data.dvrWindowSeconds < config.dvrWindowSeconds ||
      parsed.data.maxSegmentsAhead < config.maxSegmentsAhead
    )
      await this.scheduleEviction(1000);
    return this.eventState();
  }

  /** `id`: the id the home region gave the same mask, so one id removes it in every region. */
  async addMask(req: MaskRequest, id?: number): Promise<OriginResult<Mask>> {
    if (!this.loadConfig()) return fail('EVENT_NOT_FOUND', 'no such event (it exists once its first init is stored)');
    const existing = id === undefined ? undefined : this.controls.masks.find((m) => m.id === id);
    if (existing) {
      // Another region's id must never overwrite a different mask stored here.
      const same =
        existing.pipeline === req.pipeline && existing.fromK === req.fromK && existing.toK === (req.toK ?? null);
      return same
        ? ok(existing)
        : fail(
            'MASK_CONFLICT',
            `mask ${id} here is a different mask (${existing.pipeline} ${existing.fromK}..${existing.toK ?? '∞'})`,
          );
    }
    return ok(this.controls.addMask(req, Date.now(), id));
  }

  async removeMask(id: number): Promise<OriginResult<{ removed: number }>> {
    if (!this.loadConfig()) return fail('EVENT_NOT_FOUND', 'no such event (it exists once its first init is stored)');
    return this.controls.removeMask(id) ? ok({ removed: id }) : fail('MASK_NOT_FOUND', `no mask ${id} in this event`);
  }

  /** Schedule (or replace) the back-to-back event that follows this one from `atK` on. */
  async scheduleNext(req: { event: string; atK: number }): Promise<OriginResult<EventStateView>> {
    const eventId = this.loadEventId();
    if (!eventId || !this.loadConfig())
      return fail('EVENT_NOT_FOUND', 'no such event (it exists once its first init is stored)');
    if (req.event === eventId) return fail('BAD_BODY', 'event: the next event must be another event');
    this.controls.setNext(req.event, req.atK);
    return this.eventState();
  }

  async cancelNext(): Promise<OriginResult<EventStateView>> {
    if (!this.loadConfig()) return fail('EVENT_NOT_FOUND', 'no such event (it exists once its first init is stored)');
    this.controls.clearNext();
    return this.eventState();
  }

  /** `atLeast`: the home region's new version, so every region names the same version after a bump. */
  async bumpVersion(atLeast?: number): Promise<OriginResult<{ version: number }>> {
    if (!this.loadConfig()) return fail('EVENT_NOT_FOUND', 'no such event (it exists once its first init is stored)');
    return ok({ version: this.controls.bumpVersion(atLeast) });
  }

  /**
   * End the event with segment `lastK` (default: the newest stored). Ending again with the same
   * (or no) lastK answers the same state, so an operator's retry is harmless.
   */
  async endEvent(req: EndRequest): Promise<OriginResult<EventStateView>> {
    const config = this.loadConfig();
    if (!config) return fail('EVENT_NOT_FOUND', 'no such event (it exists once its first init is stored)');
    const c = this.controls;
    if (c.ended) {
      if (req.lastK === undefined || req.lastK === c.endK) return this.eventState();
      return fail('EVENT_ENDED', `the event already ended with segment ${c.endK}`);
    }
    const newest = this.sql.exec<{ hi: number | null }>('SELECT MAX(k) AS hi FROM candidates').one().hi;
    c.end(req.lastK ?? newest ?? newestDueK(Date.now(), config), Date.now());
    // Requests held for segments past the end answer now (410) instead of at their deadline.
    for (const key of [...this.waiters.keys()]) this.wake(key);
    return this.eventState();
  }

  // ---- splices (contract/splices.ts) ----------------------------------------------------------

  /**
   * Store an ad break. The same splice again (the other pipeline, the other region, a retry) is
   * `added: false`; another splice under a stored id is SPLICE_CONFLICT. A break that ended before
   * the DVR window, or that starts more than a day ahead, or whose section does not parse, is refused.
   */
  async putSplice(splice: Splice): Promise<OriginResult<{ splice: Splice; added: boolean }>> {
    const config = this.loadConfig();
    if (!config) return fail('EVENT_NOT_FOUND', 'no such event (it exists once its first init is stored)');
    const now = Date.now();
    const problem = sectionProblem(splice);
    if (problem) return fail('BAD_BODY', problem);
    const windowStartMs = Math.max(this.windowStart(now, config) * config.segmentDurationMs, now - MAX_SPLICE_LAG_MS);
    if (splice.outAt + splice.durationMs <= windowStartMs)
      return fail(
        'BAD_BODY',
        `at: the break ends before ${new Date(windowStartMs).toISOString()}, the start of the DVR window`,
      );
    if (splice.outAt > now + MAX_SPLICE_LEAD_MS)
      return fail('BAD_BODY', `at: more than ${MAX_SPLICE_LEAD_MS / 3_600_000} h ahead`);
    // Both pipelines (and both regions) snap the same splice the same way: dedupe still holds.
    const r = this.splices.add(
      config.splicesOnBoundary ? spliceOnBoundary(splice, config.segmentDurationMs) : splice,
      now,
    );
    if ('conflict' in r)
      return fail(
        'SPLICE_CONFLICT',
        `splice ${splice.id} is stored with outAt ${new Date(r.conflict.outAt).toISOString()} and ${r.conflict.durationMs} ms`,
      );
    return ok(r);
  }

  // ---- DRM (docs/drm.md) ----------------------------------------------------------------------

  /** Set the event's DRM before its first init; afterwards only the same setting is accepted (409 DRM_LOCKED). */
  async setDrm(drm: DrmConfig | null): Promise<OriginResult<{ drm: DrmConfig | null }>> {
    return this.drm.set(drm);
  }

  /**
   * What the ingest route needs to package a PUT: the event's DRM and, with DRM, the stored
   * (protected) init of `pipeline`. `initStored`: this pipeline's init of `track` is stored, so
   * the answer can never change (the DRM is locked once any init exists, an init never changes)
   * and the edge may keep it (edge/ingest-drm-memory.ts).
   */
  async ingestDrm(track: string, pipeline: string): Promise<IngestDrm> {
    const drm = this.drm.get();
    const row = this.sql
      .exec<{ bytes: ArrayBuffer }>('SELECT bytes FROM inits WHERE track = ? AND pipeline = ?', track, pipeline)
      .toArray()[0];
    return { drm, init: drm && row ? new Uint8Array(row.bytes) : null, initStored: row !== undefined };
  }

  // ---- DVR eviction -------------------------------------------------------------------------

  /**
   * Delete every candidate that left the DVR window, and any further past the live edge than
   * ingest accepts (only rows from before that rule, or from before `maxSegmentsAhead` was
   * lowered, can be there); enforce the storage budget; keep running while anything is stored.
   */
  override async alarm(): Promise<void> {
    const config = this.loadConfig();
    if (!config) return;
    const now = Date.now();
    let next: BudgetState = this.budget.state();
    // The configured window alone keeps the event inside its budget again: the alert is over.
    if (next.floorK !== null && next.floorK <= windowStartK(now, config)) {
      if (next.alert) console.log(`event ${this.loadEventId()}: storage budget alert cleared`);
      next = { floorK: null, alert: null };
    }
    this.evictOutside(this.windowStart(now, config), this.newestAcceptedK(now, config), config, next);
    this.enforceBudget(now, config);
    const left = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM candidates').one().n;
    if (left > 0) await this.ctx.storage.setAlarm(Date.now() + EVICTION_INTERVAL_MS);
  }

  /**
   * Delete every candidate outside [fromK, toK] (and the cues before fromK) in one transaction,
   * persisting `next` with it; memory (byte count, index, hot copies) follows once it committed.
   */
  private evictOutside(fromK: number, toK: number, config: EventConfig, next: BudgetState = this.budget.state()): void {
    let freed = 0;
    const changed = JSON.stringify(next) !== JSON.stringify(this.budget.state());
    this.ctx.storage.transactionSync(() => {
      freed = this.sql
        .exec<{ n: number }>('SELECT COALESCE(SUM(size), 0) AS n FROM candidates WHERE k < ? OR k > ?', fromK, toK)
        .one().n;
      for (const table of ['segment_chunks', 'candidates', 'served'])
        this.sql.exec(`DELETE FROM ${table} WHERE k < ? OR k > ?`, fromK, toK);
      this.captions.evict(fromK * config.segmentDurationMs);
      this.splices.evict(fromK * config.segmentDurationMs);
      if (changed) this.budget.write(next);
    });
    this.budget.apply(next, -freed);
    this.index?.keepOnly(fromK, toK);
    this.hot.evictBefore(fromK);
  }

  /**
   * Keep the event inside `storageBudgetBytes`: from 90% of it on, evict the oldest K (every
   * track, every copy) until 80% remain, never the live edge (the newest due K and the
   * `liveEdgeSegments` before it). The DVR window then starts later than configured: the alert
   * says so in the operator state and in the log, until the configured window is short enough again.
   */
  private enforceBudget(nowMs: number, config: EventConfig): void {
    if (this.budget.excess(config) === 0) return;
    // What the window evicts anyway goes first (the alarm may not have run yet).
    this.evictOutside(this.windowStart(nowMs, config), this.newestAcceptedK(nowMs, config), config);
    const excess = this.budget.excess(config);
    if (excess === 0) return;
    const liveFrom = newestDueK(nowMs, config) - config.liveEdgeSegments;
    let freed = 0;
    let cutoff: number | undefined;
    // Oldest first, and only as far as needed: the cursor stops being read once enough is found.
    for (const r of this.sql.exec<{ k: number; bytes: number }>(
      'SELECT k, SUM(size) AS bytes FROM candidates WHERE k < ? GROUP BY k ORDER BY k',
      liveFrom,
    )) {
      freed += r.bytes;
      cutoff = r.k + 1;
      if (freed >= excess) break;
    }
    const used = `${mib(this.budget.bytes)} of the ${mib(config.storageBudgetBytes)} storage budget`;
    const since = this.budget.alert?.since ?? nowMs;
    if (cutoff === undefined) {
      // Everything stored is the live edge: keep serving it, and say that the budget is too small.
      if (this.budget.alert?.message.startsWith('nothing')) return;
      const alert = {
        since,
        message: `nothing can be evicted: ${used} is all live edge (raise storageBudgetBytes)`,
      };
      const next = { floorK: this.budget.floorK, alert };
      this.ctx.storage.transactionSync(() => this.budget.write(next));
      this.budget.apply(next);
      console.log(`event ${this.loadEventId()}: storage budget alert: ${alert.message}`);
      return;
    }
    const kept = ((newestDueK(nowMs, config) - cutoff) * config.segmentDurationMs) / 1000;
    const alert = {
      since,
      message: `${used} was used: evicted every segment before ${cutoff}; the DVR window is about ${duration(kept)} instead of ${duration(config.dvrWindowSeconds)}`,
    };
    this.evictOutside(cutoff, Number.MAX_SAFE_INTEGER, config, {
      floorK: Math.max(cutoff, this.budget.floorK ?? cutoff),
      alert,
    });
    console.log(`event ${this.loadEventId()}: storage budget alert: ${alert.message}`);
  }

  private async scheduleEviction(inMs: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    const at = Date.now() + inMs;
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  // ---- helpers ------------------------------------------------------------------------------

  /** Where the DVR window starts now: the configured window, or later when the storage budget evicted more. */
  private windowStart(nowMs: number, config: EventConfig): number {
    return Math.max(windowStartK(nowMs, config), this.budget.floorK ?? Number.MIN_SAFE_INTEGER);
  }

  /** The newest K ingest accepts now: the live edge (floor(now / D)) plus `maxSegmentsAhead`. */
  private newestAcceptedK(nowMs: number, config: EventConfig): number {
    return segmentNumberAt(nowMs, config.segmentDurationMs) + config.maxSegmentsAhead;
  }

  /** Why ingest refuses segment K now, or undefined when K is plausible. */
  private implausibleK(k: number, nowMs: number, config: EventConfig): string | undefined {
    const from = this.windowStart(nowMs, config);
    const to = this.newestAcceptedK(nowMs, config);
    if (k >= from && k <= to) return undefined;
    const range = `segments ${from}..${to} are accepted now`;
    if (k < from)
      return `segment ${k} is before the DVR window, which starts at segment ${from} (${new Date(from * config.segmentDurationMs).toISOString()}); ${range}`;
    const liveK = segmentNumberAt(nowMs, config.segmentDurationMs);
    return `segment ${k} is ${k - liveK} segments past the live edge (segment ${liveK}, ${new Date(nowMs).toISOString()}); at most ${config.maxSegmentsAhead} ahead are accepted, ${range}: is the publisher's clock right?`;
  }

  private segmentIndex(): SegmentIndex {
    this.index ??= SegmentIndex.load(this.sql);
    return this.index;
  }

  /** Whether every pipeline that is up has stored K+2 or later of `track` (EventControls.pipelinesPast). */
  private pipelinesPast(track: string, k: number, nowMs: number, config: EventConfig): boolean {
    const index = this.segmentIndex();
    return this.controls.pipelinesPast(k, nowMs, config, (pipeline) => index.newest(track, pipeline));
  }

  private loadConfig(): EventConfig | undefined {
    if (this.config) return this.config;
    const row = this.sql.exec<{ config: string }>('SELECT config FROM event WHERE id = 1').toArray()[0];
    if (row) this.config = EventConfig.parse(JSON.parse(row.config));
    return this.config;
  }

  private loadEventId(): string | undefined {
    this.eventId ??= this.sql
      .exec<{ event_id: string }>('SELECT event_id FROM event WHERE id = 1')
      .toArray()[0]?.event_id;
    return this.eventId;
  }

  private stamp(config: EventConfig): Stamped {
    return { eventState: this.controls.header(Date.now(), config), version: this.controls.version };
  }

  /** A failure that still carries x-event-state, so the edge learns the state from every answer. */
  /** A refusal with its fact, stamped with the event state (cumulative: errors carry it too). */
  private failStamped(code: Parameters<typeof fail>[0], message: string, fact: OriginFact): OriginResult<never> {
    const config = this.loadConfig();
    return fail(code, message, fact, config ? { [EVENT_STATE_HEADER]: this.controls.header(Date.now(), config) } : {});
  }

  private findTrack(track: string): OriginResult<{ config: EventConfig; descriptor: TrackDescriptor }> {
    const config = this.loadConfig();
    if (!config) return fail('EVENT_NOT_FOUND', 'no such event (it exists once its first init is stored)', MISSING);
    let descriptor = this.descriptors.get(track);
    if (!descriptor) {
      const row = this.sql
        .exec<{ descriptor: string }>('SELECT descriptor FROM tracks WHERE track = ?', track)
        .toArray()[0];
      if (!row) {
        // Caption tracks are declared in the config (which can change), so they are not cached here.
        const caption = config.captions.find((c) => captionTrackId(c.language) === track);
        if (caption) return ok({ config, descriptor: describeCaptionTrack(caption) });
        return this.failStamped('TRACK_NOT_FOUND', `no track ${track} in this event`, MISSING);
      }
      descriptor = JSON.parse(row.descriptor) as TrackDescriptor;
      this.descriptors.set(track, descriptor);
    }
    return ok({ config, descriptor });
  }

  private candidateRows(track: string, k: number): CandidateRow[] {
    return this.sql
      .exec<{
        pipeline: string;
        region: string;
        defects: string;
        sha256: string;
        received_at: number;
        served_version: number | null;
      }>(
        `SELECT c.pipeline, c.region, c.defects, c.sha256, c.received_at, s.version AS served_version
         FROM candidates c
         LEFT JOIN served s ON s.track = c.track AND s.k = c.k AND s.pipeline = c.pipeline AND s.region = c.region
         WHERE c.track = ? AND c.k = ?`,
        track,
        k,
      )
      .toArray()
      .map((r) => ({
        pipeline: r.pipeline,
        region: r.region,
        defects: JSON.parse(r.defects) as string[],
        sha256: r.sha256,
        receivedAt: r.received_at,
        servedVersion: r.served_version,
      }));
  }

  /**
   * The candidate selection picks among those operators have not masked. Once a clean copy was
   * served as immutable under the current version it stays the answer (a preferred pipeline's
   * copy arriving late must not change the bytes behind the URL); a version bump lifts that.
   */
  private select(track: string, k: number, config: EventConfig, region: string): CandidateRow | undefined {
    const { masks } = this.controls;
    const rows = this.candidateRows(track, k).filter((c) => !isMasked(masks, c.pipeline, k));
    const served = rows.filter((c) => c.servedVersion === this.controls.version && c.defects.length === 0);
    return selectCandidate(served.length > 0 ? served : rows, config.pipelines, region);
  }

  /**
   * Wait for a clean candidate of a live-edge segment until `deadlineMs`. Once a defective one
   * exists, keep waiting only while a pipeline that is up (and not masked for K) has not yet
   * delivered its copy, and at most `defectiveGraceMs` after the defective one arrived: pipelines
   * publish the same K at about the same moment, so a clean copy is either close or not coming.
   */
  private async holdForClean(
    track: string,
    k: number,
    config: EventConfig,
    region: string,
    deadlineMs: number,
  ): Promise<CandidateRow | undefined> {
    const key = `${track}/${k}`;
    for (;;) {
      const chosen = this.select(track, k, config, region);
      if (chosen && chosen.defects.length === 0) return chosen;
      let until = deadlineMs;
      if (chosen) {
        if (!this.awaitingCopy(track, k, config)) return chosen;
        until = Math.min(deadlineMs, chosen.receivedAt + config.defectiveGraceMs);
      } else if (
        segmentTiming(
          k,
          Date.now(),
          config,
          this.pipelinesPast(track, k, Date.now(), config),
          this.windowStart(Date.now(), config),
        ).kind === 'gone'
      ) {
        return undefined; // every working pipeline has moved past K without it
      }
      if (Date.now() >= until || (this.controls.endK !== null && k > this.controls.endK)) return chosen;
      // Woken by K's PUT; otherwise re-check the verdict twice a second as other segments arrive.
      await this.waitFor(key, Math.min(until, Date.now() + HOLD_RECHECK_MS));
    }
  }

  /** Whether a pipeline that is up and not masked for K has not stored its copy of (track, K) yet. */
  private awaitingCopy(track: string, k: number, config: EventConfig): boolean {
    const have = new Set(this.candidateRows(track, k).map((c) => c.pipeline));
    const { masks } = this.controls;
    return this.controls
      .alivePipelines(Date.now(), config)
      .some((h) => !have.has(h.pipeline) && !isMasked(masks, h.pipeline, k));
  }

  private readBytes(track: string, k: number, c: CandidateRow): Bytes {
    const hot = this.hot.get([track, k, c.pipeline, c.region].join('/'), c.sha256);
    if (hot) return hot;
    const pieces = this.sql
      .exec<{ bytes: ArrayBuffer }>(
        'SELECT bytes FROM segment_chunks WHERE track = ? AND k = ? AND pipeline = ? AND region = ? ORDER BY seq',
        track,
        k,
        c.pipeline,
        c.region,
      )
      .toArray()
      .map((r) => r.bytes);
    return join(pieces);
  }

  /**
   * An edge's background refresh of a media playlist (ManifestHold): until some pipeline stored
   * the track's segment k, or its due time (at most MAX_MANIFEST_HOLD_MS). A track with no
   * segments here (captions are written from cues, not stored) is not waited for.
   */
  private async untilStored({ track, k, untilMs }: ManifestHold): Promise<void> {
    const index = this.segmentIndex();
    const pipelines = [...index.pipelinesOf(track).keys()];
    if (pipelines.length === 0 || pipelines.some((p) => (index.newest(track, p) ?? -1) >= k)) return;
    // Woken by (track, k)'s PUT.
    await this.waitFor(`${track}/${k}`, Math.min(untilMs, Date.now() + MAX_MANIFEST_HOLD_MS));
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

/** `90 s`, `45 min`: what an operator reads in the alert. */
function duration(seconds: number): string {
  return seconds < 120 ? `${Math.max(0, Math.round(seconds))} s` : `${Math.round(seconds / 60)} min`;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
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
