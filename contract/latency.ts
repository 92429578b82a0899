import { z } from 'zod';

/**
 * Where players should sit behind the live edge (an event's `latency` block; docs/configuration.md,
 * docs/manifests.md "Latency signalling"). Every field is optional: an absent one is derived from
 * D and the event's pipelineDelayMs by `resolveLatency`, so `{}` means "the defaults".
 *
 * Latency here is what a viewer sees: wall clock minus the capture time of the frame on screen
 * (the epoch anchor makes that a player's own `now − currentTime` in DASH).
 */
export const LatencyConfig = z
  .object({
    /** DASH Latency@target and suggestedPresentationDelay; HLS HOLD-BACK from it (never below 3 target durations). */
    targetMs: z.number().int().min(500).max(120_000).optional(),
    /** DASH Latency@min: players should not try to get closer than this. */
    minMs: z.number().int().min(0).max(120_000).optional(),
    /** DASH Latency@max: a player further behind should catch up or jump back to the target. */
    maxMs: z.number().int().min(500).max(600_000).optional(),
    /** DASH PlaybackRate: how much slower or faster than real time a player may play to reach the target. */
    playbackRate: z
      .object({ min: z.number().min(0.5).max(1), max: z.number().min(1).max(2) })
      .strict()
      .optional(),
    /**
     * Chunked CMAF part duration P (docs/latency.md): LL-HLS PART-TARGET and the part timing the
     * origin holds requests by (500 when unset). Must match the bridges' `partDurationMs`, which
     * publish no parts by default: the event definition's `partDurationMs` sets both.
     */
    partDurationMs: z.union([z.literal(500), z.literal(333)]).optional(),
  })
  .strict()
  .refine((l) => l.minMs === undefined || l.targetMs === undefined || l.minMs <= l.targetMs, {
    message: 'minMs must not exceed targetMs',
    path: ['minMs'],
  })
  .refine((l) => l.maxMs === undefined || l.targetMs === undefined || l.targetMs <= l.maxMs, {
    message: 'maxMs must not be below targetMs',
    path: ['maxMs'],
  })
  .refine((l) => l.minMs === undefined || l.maxMs === undefined || l.minMs <= l.maxMs, {
    message: 'minMs must not exceed maxMs',
    path: ['minMs'],
  });
export type LatencyConfig = z.infer<typeof LatencyConfig>;

export interface Latency {
  targetMs: number;
  minMs: number;
  maxMs: number;
  playbackRate: { min: number; max: number };
}

/**
 * Gentle enough not to be heard on speech or music (DASH-IF's low-latency guidelines use the same
 * ±4%); dash.js's own default is ±50%.
 */
export const DEFAULT_PLAYBACK_RATE = { min: 0.96, max: 1.04 };

/**
 * The latency an event's manifests signal, its absent fields derived from D and the pipeline delay:
 *
 * - target = D + pipelineDelayMs. Playing at latency L, the playhead reaches the start of segment K
 *   at K·D + L; K is due at (K+1)·D + pipelineDelayMs. So D + pipelineDelayMs is the closest a
 *   player can sit and still have every on-time segment before it needs it. pipelineDelayMs is
 *   itself the deadline, with room over the usual publish (about a second after a segment ends),
 *   and the origin holds a request for the next segment open until it lands.
 * - min = D + pipelineDelayMs/2: closer, a segment that uses more than half its allowed delay
 *   stalls the player.
 * - max = target + 2·D: two segments behind the target is no longer "live" for this event.
 * - playbackRate = 0.96–1.04.
 *
 * Explicit fields win; a derived one is kept between the explicit ones (an explicit minMs above the
 * derived target raises the target to it).
 */
export function resolveLatency(config: {
  segmentDurationMs: number;
  pipelineDelayMs: number;
  latency?: LatencyConfig;
}): Latency {
  const D = config.segmentDurationMs;
  const l = config.latency ?? {};
  const clamp = (v: number, lo = -Infinity, hi = Infinity) => Math.min(Math.max(v, lo), hi);
  const targetMs = l.targetMs ?? clamp(D + config.pipelineDelayMs, l.minMs, l.maxMs);
  return {
    targetMs,
    minMs: l.minMs ?? Math.min(targetMs, D + Math.round(config.pipelineDelayMs / 2)),
    maxMs: l.maxMs ?? targetMs + 2 * D,
    playbackRate: l.playbackRate ?? DEFAULT_PLAYBACK_RATE,
  };
}
