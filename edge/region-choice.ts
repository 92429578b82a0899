import { expectedPublishMs } from '../contract/epoch.ts';
import { defaultEventConfig } from '../contract/event-config.ts';
import { playlistBlockMs } from '../origin/live-parts.ts';
import { partGridOf, partHoldEndMs } from '../origin/part-timing.ts';
import type { OriginResult } from '../origin/result.ts';
import { type Chosen, chooseAcrossRegions } from './four-candidates.ts';
import { regionsFor } from './origin-stub.ts';
import { RegionHealth } from './region-health.ts';
import type { Ctx } from './route-handler.ts';

/**
 * Which region's origin answers a player request (edge/four-candidates.ts), and by when the first
 * region asked must have answered: the object's due time (a live-edge hold ends there) plus
 * REGION_TIMEOUT_MS. Due times come from the event's timing, which this isolate learns from the
 * manifests it builds; without it a segment's deadline counts from now, a part's from the default
 * timing.
 */

export interface EventTiming {
  segmentDurationMs: number;
  pipelineDelayMs: number;
  /** Chunked CMAF parts per segment (origin/part-timing.ts partGridOf). */
  parts: number;
}

/** Timing per event, learned from manifests. */
export const eventTimings = new Map<string, EventTiming>();

const regionTimeoutMs = (env: Env) => Number(env.REGION_TIMEOUT_MS ?? 1500);

/** When segment K is due (contract/epoch.ts), if this isolate knows the event's timing. */
export function segmentDueMs(event: string, k: number | undefined): number | undefined {
  const t = eventTimings.get(event);
  return t && k !== undefined ? expectedPublishMs(k, t.segmentDurationMs, t.pipelineDelayMs) : undefined;
}

/**
 * The event's timing for part deadlines: learned, else the defaults (contract/event-config.ts).
 * A part or a blocking reload is held for seconds, so "now plus REGION_TIMEOUT_MS" would pass over
 * a home region that is only waiting, on the first request of an isolate that built no manifest yet.
 */
function partTimingOf(event: string): EventTiming {
  return (
    eventTimings.get(event) ?? {
      segmentDurationMs: defaultEventConfig.segmentDurationMs,
      pipelineDelayMs: defaultEventConfig.pipelineDelayMs,
      parts: partGridOf(defaultEventConfig).parts,
    }
  );
}

/**
 * Until when a region's origin holds a request for part n of segment K before refusing it
 * (origin/part-timing.ts partHoldEndMs): a region that has not answered by then plus
 * REGION_TIMEOUT_MS is failing, not waiting for a late part.
 */
export function partHoldEndsAt(event: string, k: number, n: number): number {
  return partHoldEndMs(k, n, partTimingOf(event));
}

/** Until when a region's origin blocks an LL-HLS playlist reload asked now (origin/live-parts.ts). */
export function playlistBlockEndMs(event: string): number {
  return Date.now() + playlistBlockMs(partTimingOf(event).segmentDurationMs);
}

/** Regions failing or late are remembered this long by this isolate (wrangler.toml REGION_DOWN_MS). */
let health: RegionHealth | undefined;
function regionHealth(env: Env): RegionHealth {
  health ??= new RegionHealth(Number(env.REGION_DOWN_MS ?? 10_000));
  return health;
}

/** Regions this isolate remembers down now, with until when (the operator state's `edge.shield`). */
export function regionsDown(): Record<string, string> {
  return health?.snapshot() ?? {};
}

/** What a route asks of the regions (chooseRegion). */
export interface RegionAsk<T> {
  /** When the answer is due (a segment's due time, a part's hold end); undefined: now. */
  dueAtMs?: number;
  ask: (region: string) => Promise<OriginResult<T>>;
  /** Defects of an answer, to pass over a defective copy (default: none). */
  defectsOf?: (value: T) => string[];
  /** Refusals the next region would give too, besides "not due yet" (default: none). */
  finalRefusal?: (result: Extract<OriginResult<T>, { ok: false }>) => boolean;
  /** Lets go of an answer that is not served (a late or losing region's stream). */
  discard?: (value: T) => void;
}

/**
 * Ask the home region, and the next when the home one fails, misses `dueAtMs` + REGION_TIMEOUT_MS,
 * or answers with a missing or defective copy; the best answer wins (edge/four-candidates.ts).
 */
export function chooseRegion<T>(c: Ctx, request: RegionAsk<T>): Promise<Chosen<T>> {
  const { dueAtMs, ask, defectsOf = () => [], finalRefusal, discard } = request;
  const env = c.env;
  const now = Date.now();
  return chooseAcrossRegions<T>({
    regions: regionsFor(env, c.req.raw),
    ask,
    defectsOf,
    discard,
    // Not due yet is the same answer everywhere: the same clock rules every region.
    refusalIsFinal: (r) => r.fact?.state === 'early' || (finalRefusal?.(r) ?? false),
    deadlineAt: Math.max(now, dueAtMs ?? now) + regionTimeoutMs(env),
    regionTimeoutMs: regionTimeoutMs(env),
    health: regionHealth(env),
  });
}
