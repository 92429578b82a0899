import { PTS_CLOCK_HZ, PTS_WRAP, segmentTicks, unwrapPts } from '../contract/epoch.ts';

/**
 * How one ffmpeg run maps the feed's clock onto the epoch grid.
 *
 * ffmpeg runs with -copyts and -itsoffset so that its timestamps are `t = UTC − base`, where base
 * is a segment boundary just before the feed's first PTS: small numbers, and boundaries fall on
 * multiples of D. Video and audio are trimmed to start exactly at a later boundary S (the first
 * segment this run publishes), leaving enough feed before S for the decoder to find a keyframe.
 */
export interface TimingPlan {
  /** UTC (ms) that ffmpeg's t=0 stands for; a multiple of D. */
  baseMs: number;
  /** -itsoffset value: turns the wrapped 33-bit PTS into t = UTC − base. */
  itsOffset: string;
  /** t (seconds, a multiple of D) where both tracks start: the first segment boundary of this run. */
  startSeconds: number;
  /** The first segment number this run can publish complete. */
  firstSegment: number;
  /** trim start for video, in 90 kHz ticks of t. */
  videoTrimPts: number;
  /** atrim start for audio, in samples of t: the first AAC frame-grid point at or after S. */
  audioTrimPts: number;
  /**
   * t (90 kHz ticks of ffmpeg's time, i.e. UTC − base) of the first video frame at or after S:
   * the first frame ffmpeg encodes. ffmpeg measures keyframe times from that frame, so the
   * keyframe schedule (keyframeExpression) needs it to the tick. Exact when read from the feed
   * itself (`atFirstFrame`, what the bridge does); otherwise predicted from the frame grid measured
   * at the start (bench), which a feed whose PTS do not sit on a perfect grid defeats.
   */
  firstFrameT90: number;
  /** True when firstFrameT90 was read from the feed's own PTS, not predicted. */
  firstFrameExact: boolean;
  /** How far after S the first video frame falls (seconds), for the log: 0 for a source whose frames sit on the epoch grid. */
  firstFrameOffsetSeconds: number;
}

/** AAC-LC frames are 1024 samples; the frame grid is anchored at the Unix epoch so that every pipeline cuts audio identically. */
export const AAC_FRAME_SAMPLES = 1024;

export function planTiming(opts: {
  firstPts33: number;
  nowMs: number;
  segmentDurationMs: number;
  audioSampleRate: number;
  /** Feed needed before S so the decoder has a keyframe (the synthetic contribution GOP is 0.5 s). */
  leadInMs?: number;
  /** The feed's video frame grid (one frame's 33-bit PTS and the frame duration in 90 kHz ticks). */
  videoGrid?: { pts33: number; frameTicks: number };
  /** Accepted for compatibility; the video timescale now only matters to the keyframe schedule (keyframeExpression). */
  videoTimescale?: number;
}): TimingPlan {
  const d = opts.segmentDurationMs;
  const { wraps, ticks } = unwrapPts(opts.firstPts33, opts.nowMs);
  const firstMs = ticks / (PTS_CLOCK_HZ / 1000);
  const baseMs = Math.floor(firstMs / d) * d;
  const startMs = d * Math.ceil((firstMs - baseMs + (opts.leadInMs ?? 600)) / d);
  const offsetTicks = wraps * PTS_WRAP - baseMs * (PTS_CLOCK_HZ / 1000);
  const rate = opts.audioSampleRate;
  if ((baseMs * rate) % 1000 !== 0 || (startMs * rate) % 1000 !== 0)
    throw new RangeError(`D=${d} ms is not a whole number of samples at ${rate} Hz`);
  const baseSamples = (baseMs * rate) / 1000;
  const startSamples = (startMs * rate) / 1000;
  const gridPoint = Math.ceil((baseSamples + startSamples) / AAC_FRAME_SAMPLES) * AAC_FRAME_SAMPLES;
  // A prediction of the first frame at or after S from the grid measured at the start (the
  // bridge replaces it with the frame's own PTS, atFirstFrame).
  const startT90 = startMs * (PTS_CLOCK_HZ / 1000);
  let firstFrameT90 = startT90;
  if (opts.videoGrid) {
    const grid = unwrapPts(opts.videoGrid.pts33, opts.nowMs).ticks - baseMs * (PTS_CLOCK_HZ / 1000);
    const f = opts.videoGrid.frameTicks;
    firstFrameT90 = Math.round(grid + Math.ceil((startT90 - grid) / f - 1e-6) * f);
  }
  return {
    baseMs,
    firstFrameT90,
    firstFrameExact: false,
    firstFrameOffsetSeconds: (firstFrameT90 - startT90) / PTS_CLOCK_HZ,
    itsOffset: (offsetTicks / PTS_CLOCK_HZ).toFixed(6),
    startSeconds: startMs / 1000,
    firstSegment: (baseMs + startMs) / d,
    videoTrimPts: (startMs * PTS_CLOCK_HZ) / 1000,
    audioTrimPts: gridPoint - baseSamples,
  };
}

/** One video frame's timestamps as read from the feed's PES header (33-bit, 90 kHz; dts only when it differs), and whether the TS marks it as a random access point. */
export interface FeedFrameTimes {
  pts: number;
  dts?: number;
  key?: boolean;
}

/**
 * The exact t (90 kHz ticks since base) of the first video frame at or after S, read from the
 * feed's own PTS, once it is certain: the smallest PTS ≥ S seen so far, confirmed when a frame
 * has been seen whose decode time is at or past it (no later frame in decode order can then
 * present earlier; without B-frames that is the frame itself). Undefined until then.
 */
export function firstFrameAtOrAfterStart(
  plan: TimingPlan,
  frames: FeedFrameTimes[],
  nowMs: number,
): number | undefined {
  const base90 = plan.baseMs * (PTS_CLOCK_HZ / 1000);
  const start90 = plan.videoTrimPts;
  let candidate: number | undefined;
  let maxDts = -Infinity;
  for (const f of frames) {
    const pts = unwrapPts(f.pts, nowMs).ticks - base90;
    const dts = f.dts === undefined ? pts : unwrapPts(f.dts, nowMs).ticks - base90;
    if (pts >= start90 && (candidate === undefined || pts < candidate)) candidate = pts;
    if (dts > maxDts) maxDts = dts;
  }
  return candidate !== undefined && maxDts >= candidate ? candidate : undefined;
}

/**
 * Can the decoder output the frame at `firstT90`: is there a keyframe (a packet the TS marks as a
 * random access point) at or before it in the held feed? Without one, ffmpeg's first frame would
 * be a later one, not the planned first frame. A feed that marks none looks the same; the
 * pipeline then moves S at most a few segments before it starts anyway.
 */
export function keyframeAtOrBefore(
  plan: TimingPlan,
  frames: FeedFrameTimes[],
  firstT90: number,
  nowMs: number,
): boolean {
  const base90 = plan.baseMs * (PTS_CLOCK_HZ / 1000);
  return frames.some((f) => f.key && unwrapPts(f.pts, nowMs).ticks - base90 <= firstT90);
}

/** The plan with the first frame's exact time (firstFrameAtOrAfterStart): the keyframe schedule then follows the feed's own PTS. */
export function atFirstFrame(plan: TimingPlan, firstFrameT90: number): TimingPlan {
  return {
    ...plan,
    firstFrameT90,
    firstFrameExact: true,
    firstFrameOffsetSeconds: (firstFrameT90 - plan.videoTrimPts) / PTS_CLOCK_HZ,
  };
}

/**
 * A frame's time in ticks of `timescale` from its 90 kHz time: round half away from zero, exactly
 * what ffmpeg's muxer does (av_rescale_q) to the encoder's 90 kHz timestamps. Exact integer
 * arithmetic; works on t relative to base as on absolute UTC ticks, since base is a segment
 * boundary and so a whole number of ticks in both clocks. At 90 kHz it is the PTS itself.
 */
export function mediaTicks(t90: number, timescale: number): number {
  if (timescale === PTS_CLOCK_HZ) return t90;
  const n = Math.abs(t90) * timescale;
  return Math.sign(t90) * Math.floor((2 * n + PTS_CLOCK_HZ) / (2 * PTS_CLOCK_HZ));
}

/**
 * Which segment (relative to base) a frame at t90 belongs to: the one whose interval contains
 * its time in the track timescale, as the segmenter decides it (epoch-segmenter.ts).
 */
export function segmentIndexOf(t90: number, timescale: number, segmentDurationMs: number): number {
  return Math.floor(mediaTicks(t90, timescale) / segmentTicks(segmentDurationMs, timescale));
}

/**
 * The -force_key_frames expression: a frame is a keyframe exactly when it is the first of its
 * segment (segmentIndexOf differs from the last forced keyframe's; the first frame always is).
 * ffmpeg's `t` counts from the first encoded frame (5.1: forced_kf_ref_pts), and with the 90 kHz
 * encoder time base (ffmpeg-args.ts) it is exact: the frame's time is `t·90000 + firstFrameT90`,
 * the same value the muxer and the segmenter see, so keyframes, sample times and segment
 * membership all follow the feed's own PTS whatever its grid or jitter. Floating point: t·90000
 * is within 1e-6 of a whole tick over days, and at 90/60/24 kHz a rescaled tick is never within
 * 1/30 of a half, so round() and floor() are exact.
 */
export function keyframeExpression(plan: TimingPlan, timescale: number, segmentDurationMs: number): string {
  const perSegment = segmentTicks(segmentDurationMs, timescale);
  const index = (t: string) =>
    `floor(round((${t}*${PTS_CLOCK_HZ}+${plan.firstFrameT90})*${timescale}/${PTS_CLOCK_HZ})/${perSegment})`;
  return `if(isnan(prev_forced_t),1,gt(${index('t')},${index('prev_forced_t')}))`;
}

/**
 * What keyframeExpression decides, in JS (tests): is the frame at `t90` a keyframe, given the
 * t90 of the last forced one (undefined before the first)?
 */
export function isSegmentStart(
  t90: number,
  prevForcedT90: number | undefined,
  timescale: number,
  segmentDurationMs: number,
): boolean {
  if (prevForcedT90 === undefined) return true;
  return (
    segmentIndexOf(t90, timescale, segmentDurationMs) > segmentIndexOf(prevForcedT90, timescale, segmentDurationMs)
  );
}

/**
 * atrim start (samples of t) for an audio codec with `frameSamples`-sample frames whose encoder
 * emits its first packet `primingSamples` before the first input sample (ffmpeg's
 * initial_padding). The input is cut so that every packet lands on the codec's frame grid counted
 * from the Unix epoch, and the first packet (the one carrying the priming) lies before S and is
 * dropped with the partial segment: segment S then starts with the first grid frame at or after S.
 * For AAC-LC (1024/1024) this is `audioTrimPts`; for E-AC-3 (1536/256) it is 1280 samples before
 * that grid frame.
 */
export function audioTrimSamples(
  plan: TimingPlan,
  codec: { frameSamples: number; primingSamples: number },
  sampleRate = 48_000,
): number {
  const baseSamples = (plan.baseMs * sampleRate) / 1000;
  const startAbs = baseSamples + Math.round(plan.startSeconds * sampleRate);
  const grid = Math.ceil(startAbs / codec.frameSamples) * codec.frameSamples;
  return grid - codec.frameSamples + codec.primingSamples - baseSamples;
}
