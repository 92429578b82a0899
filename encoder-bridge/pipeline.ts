import type { Ladder } from '../contract/ladder.ts';
import { EncoderRun, type TrackProgress } from './encoder-run.ts';
import type { Publisher } from './publisher.ts';
import {
  atFirstFrame,
  type FeedFrameTimes,
  firstFrameAtOrAfterStart,
  keyframeAtOrBefore,
  planTiming,
  type TimingPlan,
} from './timing-plan.ts';
import {
  TsPacketAligner,
  afterProgramTables,
  firstPts,
  TS_PACKET_SIZE,
  ptsOfPacket,
  videoFrameGrid,
  videoFrameTimes,
  videoPtsValues,
} from './ts-timestamps.ts';
import { unwrapPts } from '../contract/epoch.ts';
import { concat } from '../packager/bmff/box-writer.ts';
import { assertLadderEncodable } from './audio-codecs.ts';
import { mapAudioRenditions, type MappedRendition } from './audio-mapping.ts';
import { type FrameRate, formatFrameRate, frameTicks90k, snapFrameRate, videoTimescale } from './frame-rate.ts';
import { readSourceAudio, sourceAudioComplete } from './source-audio.ts';
import { FeedUtc, type UtcCarrier } from './sei-utc-feed.ts';

export interface PipelineOptions {
  ladder: Ladder;
  segmentDurationMs: number;
  publisher: Publisher;
  ffmpegPath: string;
  /** Wait at least this long before starting ffmpeg again after it died. */
  restartDelayMs: number;
  log: (message: string) => void;
  /** Also sees every whole TS packet of the feed, encoder running or not (CC1 captions). */
  feedTap?: { push(packets: Uint8Array): void; endOfFeed(): void };
  /** `arrival`: a feed with no UTC (no SEI, PTS not UTC) is stamped on arrival instead of refused; not redundant-safe (sei-utc-feed.ts). */
  utcSource?: 'feed' | 'arrival';
}

export interface PipelineStatus {
  /** `refused`: the feed has no usable UTC (`refusal` says why); nothing of it is encoded. */
  state: 'idle' | 'starting' | 'encoding' | 'restarting' | 'refused';
  /** Where the feed's UTC comes from (`sei`, `pts` or `arrival`), null while it is being found. */
  utcCarrier: UtcCarrier | null;
  refusal: string | null;
  /** SEI carrier: pictures whose UTC SEI disagreed with the PTS→UTC mapping by more than 1 ms. */
  seiMismatches?: number;
  feedBytes: number;
  /** How far the feed's UTC stamps are behind our clock (ms), from the latest PTS seen. */
  feedLagMs: number | undefined;
  ffmpegRestarts: number;
  /** The feed's frame rate as the encoder runs it ("30", "30000/1001"), once known. */
  frameRate?: string;
  /** Exceptions thrown by the feed tap (CC1 captions), caught so that segments keep flowing. */
  feedTapErrors: number;
  run?: { pid?: number; firstSegment: number; startedAt: string; tracks: Record<string, TrackProgress> };
  lastExit?: string;
}

/**
 * Supervises the encoder for one event pipeline: takes the contribution feed (MPEG-TS bytes from
 * any ingest protocol), starts ffmpeg when the feed's clock is known, restarts it when it dies
 * and rejoins at the live edge with the same numbering.
 */
export class Pipeline {
  private readonly opts: PipelineOptions;
  private aligner = new TsPacketAligner();
  /** The current feed's UTC carrier; replaced with the first bytes after an end of feed (its status stays visible until then). */
  private utc: FeedUtc;
  private utcEnded = false;
  private run: EncoderRun | undefined;
  private plan: TimingPlan | undefined;
  private restartNotBefore = 0;
  private feedBytes = 0;
  private feedLagMs: number | undefined;
  private frameRate: string | undefined;
  private restarts = 0;
  private lastExit: string | undefined;
  private drainWaiters: (() => void)[] = [];
  private feedTapErrors = 0;
  private lastTapErrorLogged = 0;

  /** Throws when this ffmpeg cannot encode the ladder (a missing encoder, HE-AAC without libfdk_aac). */
  constructor(opts: PipelineOptions) {
    assertLadderEncodable(opts.ladder, opts.ffmpegPath);
    this.opts = opts;
    this.utc = this.newFeedUtc();
  }

  private newFeedUtc(): FeedUtc {
    return new FeedUtc({ log: this.opts.log, arrival: this.opts.utcSource === 'arrival' });
  }

  /** Accept feed bytes. Returns false when the caller should wait for `drained()`. */
  feed(chunk: Uint8Array): boolean {
    this.feedBytes += chunk.byteLength;
    if (this.utcEnded) {
      this.utc = this.newFeedUtc();
      this.utcEnded = false;
    }
    // Timestamps mapped onto UTC (SEI carrier) before anything reads them; held while the carrier is found.
    const packets = this.utc.push(this.aligner.push(chunk));
    if (packets.length === 0) return true;
    this.trackLag(packets);
    if (this.opts.feedTap) this.tap(() => this.opts.feedTap!.push(packets));
    if (!this.run) return this.maybeStart(packets);
    return this.run.write(packets);
  }

  /** Resolves when the encoder has room again. */
  drained(): Promise<void> {
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** The feed connection ended: flush the encoder; a new connection starts a new run. */
  endOfFeed(): void {
    this.aligner = new TsPacketAligner();
    this.utcEnded = true;
    if (this.opts.feedTap) this.tap(() => this.opts.feedTap!.endOfFeed());
    this.run?.endInput();
  }

  /** Kill the encoder (used by tests and on shutdown). */
  stop(): void {
    this.run?.kill();
  }

  status(): PipelineStatus {
    const run = this.run;
    const utc = this.utc.status();
    return {
      state: run ? 'encoding' : utc.refusal ? 'refused' : Date.now() < this.restartNotBefore ? 'restarting' : 'idle',
      utcCarrier: utc.utcCarrier,
      refusal: utc.refusal,
      ...(utc.utcCarrier === 'sei' ? { seiMismatches: utc.seiMismatches } : {}),
      feedBytes: this.feedBytes,
      feedLagMs: this.feedLagMs,
      ffmpegRestarts: this.restarts,
      frameRate: this.frameRate,
      feedTapErrors: this.feedTapErrors,
      lastExit: this.lastExit,
      run:
        run && this.plan
          ? {
              pid: run.pid,
              firstSegment: this.plan.firstSegment,
              startedAt: new Date(run.startedAt).toISOString(),
              tracks: Object.fromEntries(run.tracks),
            }
          : undefined,
    };
  }

  /** Runs the feed tap: whatever it throws is counted and logged (once per 10 s), never passed on to the video path. */
  private tap(call: () => void): void {
    try {
      call();
    } catch (err) {
      this.feedTapErrors++;
      if (Date.now() - this.lastTapErrorLogged >= 10_000) {
        this.lastTapErrorLogged = Date.now();
        this.opts.log(
          `feed tap (CC1 captions) failed, segments unaffected (${this.feedTapErrors} error(s) so far): ${(err as Error)?.stack ?? err}`,
        );
      }
    }
  }

  private trackLag(packets: Uint8Array): void {
    for (let p = packets.length - TS_PACKET_SIZE; p >= 0; p -= TS_PACKET_SIZE) {
      const pts = ptsOfPacket(packets.subarray(p, p + TS_PACKET_SIZE));
      if (pts !== undefined) {
        const now = Date.now();
        this.feedLagMs = Math.round(now - unwrapPts(pts, now).ticks / 90);
        return;
      }
    }
  }

  /** Feed held while learning the video frame grid and the first frame, handed to ffmpeg when it starts. */
  private held: Uint8Array[] = [];
  private heldVideoPts: number[] = [];
  /** The plan made from the first held feed, waiting for the first frame at or after S to arrive. */
  private pending:
    | {
        plan: TimingPlan;
        rate: FrameRate | undefined;
        timescale: number;
        audio: MappedRendition[];
        frames: FeedFrameTimes[];
        /** The plan again with a longer lead-in (a later S). */
        replan: (leadInMs: number) => TimingPlan;
        leadInMs: number;
      }
    | undefined;

  private maybeStart(packets: Uint8Array): boolean {
    if (Date.now() < this.restartNotBefore) return true;
    if (this.held.length === 0 && firstPts(packets) === undefined) return true;
    this.held.push(packets);
    if (!this.pending) {
      // Hold a quarter of a second of feed to learn the video frame rate, then plan.
      this.heldVideoPts.push(...videoPtsValues(packets));
      if (this.heldVideoPts.length < 8) return true;
      // The audio streams (language, channels) decide which renditions can be made: wait for the
      // PMT and each AAC stream's first frame, but never longer than about a second of video.
      const sourceAudio = readSourceAudio(concat(this.held));
      if (!sourceAudioComplete(sourceAudio) && this.heldVideoPts.length < 60) return true;
      this.pending = this.planFrom(sourceAudio);
      // Keyframes before the first PMT do not count: ffmpeg, joining here, cannot decode them.
      const all = concat(this.held);
      const tables = afterProgramTables(all);
      this.pending.frames = [
        ...videoFrameTimes(all.subarray(0, Math.max(0, tables === -1 ? all.length : tables))).map(({ key, ...f }) => f),
        ...(tables === -1 ? [] : videoFrameTimes(all.subarray(tables))),
      ];
    } else {
      this.pending.frames.push(...videoFrameTimes(packets));
    }
    // Then keep holding until the first frame at or after S is in the feed: its own PTS (not a
    // grid extrapolated from the first frames, which a feed whose PTS drift or jitter defeats)
    // anchors the keyframe schedule, so keyframes and sample times depend on the feed alone.
    const { plan: predicted, rate, timescale, audio, frames } = this.pending;
    const nowMs = Date.now();
    const first = firstFrameAtOrAfterStart(predicted, frames, nowMs);
    if (first === undefined) {
      const latest = frames.length > 0 ? unwrapPts(frames[frames.length - 1].pts, nowMs).ticks : undefined;
      const start90 = predicted.baseMs * 90 + predicted.videoTrimPts;
      if (latest === undefined || latest < start90 + 5 * 90_000) return true;
    }
    if (first === undefined || first - predicted.videoTrimPts > 45_000) {
      // No frame in the half second after S (a gap in the feed, or no video): plan again from here.
      this.opts.log(
        `no video frame in the feed just after the planned start ${predicted.firstSegment}; planning again`,
      );
      this.held = [];
      this.heldVideoPts = [];
      this.pending = undefined;
      return true;
    }
    // The decoder must be able to show that frame: with no keyframe before it (a GOP longer than
    // the lead-in), start one segment later instead of letting ffmpeg start on another frame (up
    // to three times: a feed that marks no random access points then starts anyway, and a run
    // whose first frame is not the planned one stops before publishing video, encoder-run.ts).
    const D = this.opts.segmentDurationMs;
    if (!keyframeAtOrBefore(predicted, frames, first, nowMs) && this.pending.leadInMs < 600 + 3 * D) {
      this.pending.leadInMs += D;
      this.pending.plan = this.pending.replan(this.pending.leadInMs);
      this.opts.log(
        `no keyframe in the feed before the first frame of segment ${predicted.firstSegment}: starting at ${this.pending.plan.firstSegment}`,
      );
      return true;
    }
    const held = this.held;
    this.held = [];
    this.heldVideoPts = [];
    this.pending = undefined;
    const plan = atFirstFrame(predicted, first);
    const ladder = this.opts.ladder;
    this.plan = plan;
    this.opts.log(
      `starting ffmpeg: first segment ${plan.firstSegment}, base ${new Date(plan.baseMs).toISOString()}, ${rate ? formatFrameRate(rate) : 'unknown'} fps (video timescale ${timescale}), first frame ${(plan.firstFrameOffsetSeconds * 1000).toFixed(2)} ms after it (t=${plan.firstFrameT90} at 90 kHz, from the feed)`,
    );
    this.frameRate = rate ? formatFrameRate(rate) : undefined;
    const run = new EncoderRun({
      ladder,
      plan,
      segmentDurationMs: this.opts.segmentDurationMs,
      publisher: this.opts.publisher,
      ffmpegPath: this.opts.ffmpegPath,
      videoTimescale: timescale,
      frameRate: rate && formatFrameRate(rate),
      audio,
      log: this.opts.log,
      onExit: (code, signal) => {
        if (this.run !== run) return;
        this.run = undefined;
        this.lastExit = `${new Date().toISOString()} code=${code} signal=${signal}`;
        const expected = code === 0;
        if (!expected) {
          this.restarts++;
          this.restartNotBefore = Date.now() + this.opts.restartDelayMs;
          this.opts.log(
            `ffmpeg exited unexpectedly (code ${code}, signal ${signal}); restarting when the feed continues`,
          );
        } else {
          this.opts.log('ffmpeg finished (end of feed)');
        }
        this.releaseDrain();
      },
    });
    run.stdin.on('drain', () => this.releaseDrain());
    this.run = run;
    let ok = true;
    for (const chunk of held) ok = run.write(chunk) && ok;
    return ok;
  }

  /** The frame rate, audio mapping and timing plan from the first held feed. */
  private planFrom(sourceAudio: ReturnType<typeof readSourceAudio>): NonNullable<Pipeline['pending']> {
    const grid = videoFrameGrid(this.heldVideoPts);
    // The measured average frame duration is snapped to the exact broadcast rate it stands for.
    const rate = grid && snapFrameRate(grid.frameTicks);
    const ladder = this.opts.ladder;
    if (rate && ladder.sourceFrameRate && ladder.sourceFrameRate !== formatFrameRate(rate)) {
      this.opts.log(
        `warning: ladder ${ladder.name} is meant for ${ladder.sourceFrameRate} fps; the feed is ${formatFrameRate(rate)} (every rung follows the feed)`,
      );
    }
    const audio = mapAudioRenditions(ladder, sourceAudio);
    for (const s of audio.skipped) this.opts.log(`audio rendition ${s.id} skipped: ${s.reason}`);
    const timescale = videoTimescale(rate);
    const firstPts33 = firstPts(this.held[0])!;
    const nowMs = Date.now();
    const replan = (leadInMs: number) =>
      planTiming({
        firstPts33,
        nowMs,
        segmentDurationMs: this.opts.segmentDurationMs,
        audioSampleRate: 48_000,
        leadInMs,
        videoGrid: grid && { pts33: grid.pts, frameTicks: rate ? frameTicks90k(rate) : grid.frameTicks },
      });
    const leadInMs = 600;
    return {
      plan: replan(leadInMs),
      rate: rate || undefined,
      timescale,
      audio: audio.mapped,
      frames: [],
      replan,
      leadInMs,
    };
  }

  private releaseDrain(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}
