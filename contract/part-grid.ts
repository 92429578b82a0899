/**
 * The part grid of chunked CMAF (docs/latency.md): segment K (ticks [K·T, (K+1)·T), T = D in the
 * track timescale) is cut into N parts, part n covering [K·T + ⌈n·T/N⌉, K·T + ⌈(n+1)·T/N⌉). The
 * grid is integer arithmetic on the epoch, so every pipeline cuts at the same ticks: part n of K
 * from A and from B hold the same samples. With D = 2 s, N = 4 (P = 0.5 s) and N = 6 (P = 1/3 s)
 * are exact at 90 kHz and 48 kHz.
 */

/** Parts per segment for a wanted part duration: D/P rounded (2000/333 → 6, so P is exactly D/6). */
export function partsPerSegment(segmentDurationMs: number, partDurationMs: number): number {
  return Math.max(1, Math.round(segmentDurationMs / partDurationMs));
}

/** The part (K, n) holding a sample that starts at `dts` (ticks since the epoch). */
export function partOf(dts: number, ticksPerSegment: number, parts: number): { k: number; n: number } {
  const k = Math.floor(dts / ticksPerSegment);
  const within = dts - k * ticksPerSegment;
  return { k, n: Math.floor((within * parts) / ticksPerSegment) };
}

/** Where part n of segment K starts, in ticks since the epoch (n = parts is the next segment's start). */
export function partStartTicks(k: number, n: number, ticksPerSegment: number, parts: number): number {
  return k * ticksPerSegment + Math.ceil((n * ticksPerSegment) / parts);
}

/** The part duration an event's manifests and origin use (contract/latency.ts `partDurationMs`). */
export const DEFAULT_PART_DURATION_MS = 500;

/** Where part n of K starts and ends, in ms since the epoch (the grid in ms, as players see it). */
export function partWindowMs(k: number, n: number, segmentDurationMs: number, parts: number) {
  return {
    startMs: k * segmentDurationMs + (n * segmentDurationMs) / parts,
    endMs: k * segmentDurationMs + ((n + 1) * segmentDurationMs) / parts,
  };
}
