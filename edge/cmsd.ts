import {
  type CmsdDynamicParams,
  type CmsdObjectType,
  type CmsdStatic,
  type CmsdStreamingFormat,
  CmsdStreamType,
  encodeCmsdDynamic,
  encodeCmsdStatic,
} from '@svta/cml-cmsd';
import type { TrackDescriptor } from '../contract/track.ts';
import { type AnswerSource, edgeCache } from './edge-cache.ts';
import type { EdgeLoadLimits } from './edge-load.ts';

/**
 * Common Media Server Data (CTA-5006) on player answers (docs/cmcd.md), written with the SVTA
 * library. CMSD-Static describes the object and is the same for every response, so it is written
 * once into the kept answer; CMSD-Dynamic describes this hop and this response, so it is written
 * per response, after the cache, and never kept.
 */
export const CMSD_STATIC = 'cmsd-static';
export const CMSD_DYNAMIC = 'cmsd-dynamic';
/** The `n` (intermediary) this edge names itself in CMSD-Dynamic, with the data centre when known. */
export const CMSD_SERVER = 'los-edge';
/**
 * Custom CMSD-Dynamic key (CMSD custom keys carry a hyphenated prefix; `los` = live origin
 * shield): token `hit` when the answer came from this edge's caches without an origin request
 * (x-cache hot, shared or stale), `miss` otherwise (origin, coalesced onto another request's
 * origin request, or shed).
 */
export const CMSD_CACHE_KEY = 'los-cache';

/** CMSD-Static of a live object: object type, stream type `l`, and what is known of the rest. */
export function cmsdStatic(facts: {
  ot: CmsdObjectType;
  /** When the object became available at the origin (ms since the epoch). */
  at?: number;
  /** Playback duration (ms). */
  d?: number;
  /** Encoded bitrate (kbps). */
  br?: number;
  sf?: CmsdStreamingFormat;
}): string {
  const value: CmsdStatic = { ot: facts.ot, st: CmsdStreamType.LIVE };
  if (facts.at !== undefined) value.at = Math.round(facts.at);
  if (facts.d !== undefined) value.d = Math.round(facts.d);
  if (facts.br !== undefined) value.br = Math.round(facts.br);
  if (facts.sf !== undefined) value.sf = facts.sf;
  return encodeCmsdStatic(value);
}

/** CMSD object type of a media track's segments (`tt`: ISOBMFF timed text, stpp). */
export function objectTypeOf(kind: TrackDescriptor['kind']): CmsdObjectType {
  return kind === 'video' ? 'v' : kind === 'audio' ? 'a' : 'tt';
}

/** Average encoded bitrate (kbps) of a segment of `bytes` lasting `durationMs`. */
export const segmentKbps = (bytes: number, durationMs: number) => (bytes * 8) / durationMs;

/**
 * CMSD-Dynamic of this edge for one response: the response delay (`rd`), whether it was a cache
 * hit (CMSD_CACHE_KEY), and under duress `du` plus `mb`, the bitrate players should not exceed.
 */
export function cmsdDynamic(hop: {
  source: AnswerSource | 'shed';
  responseDelayMs: number;
  duress: boolean;
  maxBitrateKbps?: number;
  colo?: string;
}): string {
  const params: CmsdDynamicParams = { rd: Math.max(0, Math.round(hop.responseDelayMs)) };
  if (hop.duress) {
    params.du = true;
    if (hop.maxBitrateKbps !== undefined) params.mb = Math.round(hop.maxBitrateKbps);
  }
  params[CMSD_CACHE_KEY] = Symbol.for(['hot', 'shared', 'stale'].includes(hop.source) ? 'hit' : 'miss');
  const server = hop.colo ? `${CMSD_SERVER}/${hop.colo}` : CMSD_SERVER;
  // The library's string overload takes the parameters as its second argument (its typing says
  // CmsdDynamic, but it builds SfItem(value, params) from it).
  return encodeCmsdDynamic(server, params as never);
}

/** A miss shed this recently keeps the edge "under duress" (as long as a shed player waits: Retry-After 5 s). */
const DURESS_AFTER_SHED_MS = 5000;

/**
 * Is this edge under duress? When DVR misses are being refused now (origin requests in flight at
 * their share of the budget, edge/edge-load.ts) or any miss was shed in the last few seconds.
 */
export function underDuress(inFlight: number, lastShedAtMs: number, nowMs: number, limits: EdgeLoadLimits): boolean {
  return (
    inFlight >= Math.floor(limits.maxOriginRequests * limits.dvrShare) || nowMs - lastShedAtMs < DURESS_AFTER_SHED_MS
  );
}

/** The lowest video bitrate (kbps) of each event's ladder, learned from its manifests. */
const lowestVideoKbps = new Map<string, number>();

/**
 * Remember the event's ladder from a manifest's tracks: under duress the edge suggests its lowest
 * video rung as `mb`. Players that follow it converge on one rendition, so each origin fill
 * serves more of them and the edge's misses fall.
 */
export function rememberLadder(event: string, tracks: TrackDescriptor[]): void {
  const video = tracks.filter((t) => t.kind === 'video' && t.bandwidth > 0).map((t) => t.bandwidth);
  if (video.length === 0) return;
  lowestVideoKbps.delete(event);
  lowestVideoKbps.set(event, Math.min(...video) / 1000);
  if (lowestVideoKbps.size > 1000) lowestVideoKbps.delete(lowestVideoKbps.keys().next().value!);
}

export const suggestedMaxKbps = (event: string) => lowestVideoKbps.get(event);

/** This edge's CMSD-Dynamic for a response to `request` about `event`, begun at `startedMs`. */
export function edgeCmsdDynamic(
  request: Request,
  event: string,
  source: AnswerSource | 'shed',
  startedMs: number,
  limits: EdgeLoadLimits,
): string {
  const now = Date.now();
  return cmsdDynamic({
    source,
    responseDelayMs: now - startedMs,
    duress: underDuress(edgeCache.inFlight, edgeCache.lastShedAt, now, limits),
    maxBitrateKbps: suggestedMaxKbps(event),
    colo: (request as { cf?: { colo?: string } }).cf?.colo,
  });
}
