/**
 * Epoch locking (ISO/IEC 23009-9 REaP style): every number a pipeline emits is a pure function of
 * UTC, so two pipelines that never talk produce interchangeable segments.
 *
 * Segment K covers media time [K·D, (K+1)·D) measured from the Unix epoch. Media time is the UTC
 * carried by the contribution feed. All arithmetic is done in integer ticks of a track timescale
 * so that 29.97 fps (3003 ticks at 90 kHz) and 48 kHz AAC (1024-sample frames) stay exact.
 */

/** MPEG-TS presentation timestamps are 33-bit counters of a 90 kHz clock. */
export const PTS_CLOCK_HZ = 90_000;
export const PTS_WRAP = 2 ** 33;

/** Ticks of `timescale` in one segment of `durationMs`. Throws when D is not a whole number of ticks. */
export function segmentTicks(durationMs: number, timescale: number): number {
  const ticks = (durationMs * timescale) / 1000;
  if (!Number.isInteger(ticks)) {
    throw new RangeError(`segment duration ${durationMs} ms is not a whole number of ticks at timescale ${timescale}`);
  }
  return ticks;
}

/** The segment number K that contains UTC instant `utcMs`. */
export function segmentNumberAt(utcMs: number, durationMs: number): number {
  return Math.floor(utcMs / durationMs);
}

/** Media time (ticks) at which segment K starts: exactly K·D·timescale. */
export function segmentStartTicks(k: number, durationMs: number, timescale: number): number {
  return k * segmentTicks(durationMs, timescale);
}

/**
 * The first sample at or after the boundary K·D starts segment K. Given a sample grid (the first
 * sample's time and a constant sample duration), returns the time of that sample: K·D exactly
 * when the grid is aligned, otherwise within one sample duration after it.
 */
export function firstSampleAtOrAfter(boundaryTicks: number, gridOriginTicks: number, sampleTicks: number): number {
  const n = Math.ceil((boundaryTicks - gridOriginTicks) / sampleTicks);
  return gridOriginTicks + n * sampleTicks;
}

/** The expected baseMediaDecodeTime window for segment K: [K·D, K·D + one sample). */
export function tfdtWindow(k: number, durationMs: number, timescale: number, sampleTicks: number): [number, number] {
  const start = segmentStartTicks(k, durationMs, timescale);
  return [start, start + sampleTicks];
}

/** When segment K should be readable everywhere: the end of its media interval plus pipeline delay. */
export function expectedPublishMs(k: number, durationMs: number, pipelineDelayMs: number): number {
  return (k + 1) * durationMs + pipelineDelayMs;
}

/**
 * Recover full UTC from a wrapped 33-bit PTS stamped from UTC, using the local clock to pick the
 * wrap count. Unambiguous while the two clocks agree within half a wrap period (about ±13 h).
 * Returns the number of whole wraps and the unwrapped PTS (90 kHz ticks since the epoch).
 */
export function unwrapPts(pts33: number, nowMs: number): { wraps: number; ticks: number } {
  const nowTicks = Math.round((nowMs * PTS_CLOCK_HZ) / 1000);
  const wraps = Math.round((nowTicks - pts33) / PTS_WRAP);
  return { wraps, ticks: pts33 + wraps * PTS_WRAP };
}

/** Wrap a UTC instant into the 33-bit PTS space (what the contribution encoder stamps). */
export function wrapPts(utcTicks90k: number): number {
  return ((utcTicks90k % PTS_WRAP) + PTS_WRAP) % PTS_WRAP;
}
