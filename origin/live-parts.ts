import { AppError } from '../contract/errors.ts';
import { expectedPublishMs } from '../contract/epoch.ts';
import type { EventConfig } from '../contract/event-config.ts';
import { readFragments } from '../packager/fragment-reader.ts';
import type { InitInfo } from '../packager/init-info.ts';
import { isSync } from '../packager/sample.ts';
import { partGridOf, partTiming } from './part-timing.ts';
import { type PartEntry, PartStore, type StoredPart } from './parts.ts';
import { fail, ok, type OriginResult } from './result.ts';

/** What LL-HLS playlists of an event are written from (packager/manifest/ll-hls.ts). */
export interface PartsView {
  /** Parts per segment and their nominal duration. */
  parts: number;
  partDurationMs: number;
  /** Per track with parts: the parts listed, oldest first (origin/parts.ts `list`). */
  byTrack: Record<string, PartEntry[]>;
}

/** What the origin object lends LiveParts: its config, masks and segment index, read at call time. */
export interface LivePartsHost {
  /** Candidate preference order and masks: false when the pipeline is masked for K. */
  allowed(pipeline: string, k: number): boolean;
  /** The newest whole segment any pipeline stored for the track. */
  lastSegment(track: string): number | undefined;
}

/** A request (track, msn, part?) counted in parts: K·N + n, with n ≥ N meaning the next segment (RFC 8216bis). */
const position = (k: number, n: number, parts: number) => k * parts + n;

/**
 * The live edge of chunked CMAF in one origin object (docs/latency.md): stores parts as they are
 * PUT, answers part requests with live-edge semantics (hold a part that is about due, 404 one too
 * far ahead, 410 one past its deadline) and holds LL-HLS blocking playlist reloads until the
 * segment or part they name exists.
 */
export class LiveParts {
  private readonly store = new PartStore();
  private readonly waiters = new Set<() => void>();

  private readonly host: LivePartsHost;

  constructor(host: LivePartsHost) {
    this.host = host;
  }

  /** Store part n of K (already checked for a plausible K by the caller). Malformed media is refused. */
  put(
    req: { track: string; k: number; n: number; pipeline: string; bytes: Uint8Array<ArrayBuffer> },
    info: InitInfo & { timescale: number },
    kind: 'video' | 'audio',
  ): OriginResult<{ status: 201 | 204 }> {
    let samples: ReturnType<typeof readFragments>[number]['samples'];
    try {
      samples = readFragments(req.bytes, info).flatMap((f) => f.samples);
    } catch (err) {
      if (err instanceof AppError)
        return fail('MEDIA_MALFORMED', `part ${req.k}.${req.n} cannot be parsed: ${err.message}`);
      throw err;
    }
    if (samples.length === 0) return fail('MEDIA_MALFORMED', `part ${req.k}.${req.n} has no samples`);
    const part: StoredPart = {
      pipeline: req.pipeline,
      bytes: req.bytes,
      durationS: samples.reduce((sum, s) => sum + s.duration, 0) / info.timescale,
      independent: kind === 'audio' || isSync(samples[0].flags),
      receivedAt: Date.now(),
    };
    const fresh = this.store.put(req.track, req.k, req.n, part);
    this.wakeAll();
    return ok({ status: fresh ? 201 : 204 });
  }

  /** A whole segment was stored: blocking reloads waiting for it may answer. */
  segmentStored(): void {
    this.wakeAll();
  }

  /**
   * Part n of K, or hold until it arrives (or its deadline), as partTiming decides. `stop`, asked
   * first at every wake (a part or segment stored here, or the hold's end), ends the hold early
   * with its answer: the chunked segment route (EventOrigin.getSegmentChunked) waits for part 0
   * by these same rules but answers "the whole segment" once K is stored or due.
   */
  async get<S = never>(
    track: string,
    k: number,
    n: number,
    config: EventConfig,
    stop: () => S | undefined = () => undefined,
  ): Promise<OriginResult<(StoredPart & { k: number; n: number }) | S>> {
    const { parts } = partGridOf(config);
    if (n >= parts)
      return fail('SEGMENT_GONE', `segment ${k} has ${parts} parts (0 to ${parts - 1}); there is no part ${n}`, {
        state: 'gone',
        recent: false,
      });
    for (;;) {
      const stopped = stop();
      if (stopped !== undefined) return ok(stopped);
      const found = this.peek(track, k, n, config);
      if (found) return ok({ ...found, k, n });
      const timing = partTiming(k, n, Date.now(), config);
      if (timing.kind === 'early')
        return fail(
          'SEGMENT_NOT_YET_AVAILABLE',
          `part ${n} of segment ${k} is not due yet; ask from ${new Date(timing.dueMs).toISOString()}`,
          { state: 'early', dueMs: timing.dueMs },
        );
      if (timing.kind === 'gone')
        return fail('SEGMENT_GONE', `part ${n} of segment ${k} was not published before its deadline`, {
          state: 'gone',
          recent: true,
        });
      await this.wait(timing.untilMs);
    }
  }

  /**
   * Part n of K for a segment stream that already carries the parts before it
   * (origin/part-stream.ts): waited for as long as a request for the whole segment would wait for
   * it (its deadline, due time + D: origin/segment-timing.ts), not only a part's own deadline. The
   * stream is under way; a loaded bridge's late part keeps it going where a refusal would break it.
   */
  async following(
    track: string,
    k: number,
    n: number,
    config: EventConfig,
  ): Promise<OriginResult<StoredPart & { k: number; n: number }>> {
    const D = config.segmentDurationMs;
    const deadlineMs = expectedPublishMs(k, D, config.pipelineDelayMs) + D;
    for (;;) {
      const found = this.peek(track, k, n, config);
      if (found) return ok({ ...found, k, n });
      if (Date.now() >= deadlineMs)
        return fail('SEGMENT_GONE', `part ${n} of segment ${k} was not published by the segment's deadline`, {
          state: 'gone',
          recent: true,
        });
      await this.wait(deadlineMs);
    }
  }

  /** Part n of K as stored now (the preferred pipeline's copy, masks honoured), without waiting. */
  peek(track: string, k: number, n: number, config: EventConfig): StoredPart | undefined {
    return this.store.get(track, k, n, config.pipelines, (p) => this.host.allowed(p, k));
  }

  /** The parts every track lists now. */
  view(config: EventConfig): PartsView {
    const { parts, partDurationMs } = partGridOf(config);
    const byTrack: Record<string, PartEntry[]> = {};
    for (const track of this.store.tracksWithParts())
      byTrack[track] = this.store.list(track, config.pipelines, (p, k) => this.host.allowed(p, k));
    return { parts, partDurationMs, byTrack };
  }

  /**
   * LL-HLS blocking playlist reload (RFC 8216bis §6.2.5.2): resolve once the track's playlist would
   * contain segment `msn` (whole: stored, or all its parts) or, with `part`, that part. 400 when
   * the request runs more than two segments ahead of the newest part (or segment); 503 when it
   * is not there within three target durations.
   */
  async awaitPlaylist(track: string, msn: number, part: number | undefined, config: EventConfig) {
    const { parts } = partGridOf(config);
    const newest = () => {
      const latest = this.store.latest(track, config.pipelines, (p, k) => this.host.allowed(p, k));
      const last = this.host.lastSegment(track);
      const fromSegments = last === undefined ? undefined : position(last + 1, 0, parts) - 1;
      const fromParts = latest ? position(latest.k, latest.n, parts) : undefined;
      if (fromSegments === undefined) return fromParts;
      return fromParts === undefined ? fromSegments : Math.max(fromParts, fromSegments);
    };
    // The position of the last part the request needs: every part of msn, or exactly (msn, part).
    const wanted = part === undefined ? position(msn, parts - 1, parts) : position(msn, part, parts);
    const now = newest();
    const lastMsn = now === undefined ? undefined : Math.floor(now / parts);
    if (lastMsn !== undefined && msn > lastMsn + 2)
      return fail(
        'BAD_QUERY',
        `_HLS_msn=${msn} is more than two segments past the last one in the playlist (${lastMsn})`,
        MISSING,
      );
    // Only a named part has an advance limit of its own; a whole msn up to last + 2 waits (RFC 8216bis 6.2.5.2).
    if (part !== undefined && now !== undefined && wanted > now + 2 * parts)
      return fail(
        'BAD_QUERY',
        `_HLS_part=${part} of _HLS_msn=${msn} is more than two segments' worth of parts (${2 * parts}) past the newest part`,
        MISSING,
      );
    const deadline = Date.now() + playlistBlockMs(config.segmentDurationMs);
    for (;;) {
      const at = newest();
      if (at !== undefined && at >= wanted) return ok({ waitedUntil: Date.now() });
      if (Date.now() >= deadline)
        return fail(
          'PLAYLIST_BLOCK_TIMEOUT',
          `${part === undefined ? `segment ${msn}` : `part ${part} of segment ${msn}`} did not appear within three target durations`,
          MISSING,
        );
      await this.wait(deadline);
    }
  }

  /** Resolve at the next part or segment stored, or at `untilMs`. */
  wait(untilMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, untilMs - Date.now()));
      this.waiters.add(done);
    });
  }

  private wakeAll(): void {
    for (const done of [...this.waiters]) done();
  }
}

const MISSING = { state: 'missing' } as const;

/** How long a blocking playlist reload waits before its 503 (RFC 8216bis: three target durations). */
export function playlistBlockMs(segmentDurationMs: number): number {
  return 3 * Math.ceil(segmentDurationMs / 1000) * 1000;
}
