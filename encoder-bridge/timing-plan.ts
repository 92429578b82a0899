import { PTS_CLOCK_HZ, PTS_WRAP, unwrapPts } from '../contract/epoch.ts';

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
   * How far after S the first video frame falls (seconds): 0 for a source whose frames sit on the
   * epoch grid, up to one frame otherwise (29.97, 59.94). ffmpeg measures keyframe times from the
   * first encoded frame, so the keyframe schedule subtracts this to land on S + n·D.
   */
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
  /** The video track timescale (frame-rate.ts): the first frame's offset is rounded to its ticks, exactly as the segmenter anchors it. */
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
  // Where the first frame at or after S falls, in ticks of the video timescale, computed relative to
  // base (small numbers, exact in floating point). At 59.94 the feed's 90 kHz PTS are rounded
  // (1501/1502 steps) and the predicted frame time can be x.5 ticks; rounding to the 60 kHz grid
  // gives the frame's exact time, the same value the segmenter anchors on (encoder-run.ts). The
  // keyframe schedule then agrees with the segmenter to the tick.
  const ts = opts.videoTimescale ?? PTS_CLOCK_HZ;
  let firstFrameOffsetTicks = 0;
  if (opts.videoGrid) {
    const grid = unwrapPts(opts.videoGrid.pts33, opts.nowMs).ticks - baseMs * (PTS_CLOCK_HZ / 1000);
    const startTicks = startMs * (PTS_CLOCK_HZ / 1000);
    const f = opts.videoGrid.frameTicks;
    const first = grid + Math.ceil((startTicks - grid) / f - 1e-6) * f;
    firstFrameOffsetTicks = Math.max(0, Math.round((first * ts) / PTS_CLOCK_HZ) - (startMs * ts) / 1000);
  }
  return {
    baseMs,
    firstFrameOffsetSeconds: firstFrameOffsetTicks / ts,
    itsOffset: (offsetTicks / PTS_CLOCK_HZ).toFixed(6),
    startSeconds: startMs / 1000,
    firstSegment: (baseMs + startMs) / d,
    videoTrimPts: (startMs * PTS_CLOCK_HZ) / 1000,
    audioTrimPts: gridPoint - baseSamples,
  };
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
