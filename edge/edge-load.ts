/**
 * Shedding at the edge (DESIGN §4, §8): when this isolate already has many origin requests in
 * flight, new misses are refused with 503 before they reach the origin — DVR requests first, the
 * live edge only when the whole budget is used. Kept answers are always served. Limits are
 * Worker vars (wrangler.toml): EDGE_MAX_ORIGIN_REQUESTS (in flight per isolate) and
 * EDGE_DVR_SHARE (the part of it DVR misses may use).
 */
export interface EdgeLoadLimits {
  maxOriginRequests: number;
  dvrShare: number;
}

export function edgeLoadLimits(env: Env): EdgeLoadLimits {
  const max = Number(env.EDGE_MAX_ORIGIN_REQUESTS ?? 256);
  const share = Number(env.EDGE_DVR_SHARE ?? 0.5);
  return {
    maxOriginRequests: Number.isFinite(max) && max > 0 ? max : 256,
    dvrShare: Number.isFinite(share) && share >= 0 && share <= 1 ? share : 0.5,
  };
}

/** May one more miss of this kind go to the origin, with `inFlight` already on their way? */
export function admitMiss(inFlight: number, kind: 'live' | 'dvr', limits: EdgeLoadLimits): boolean {
  const budget = kind === 'dvr' ? Math.floor(limits.maxOriginRequests * limits.dvrShare) : limits.maxOriginRequests;
  return inFlight < budget;
}

/** A segment more than `liveEdgeSegments` behind the newest due one is a DVR request. */
export function isDvrSegment(
  k: number,
  nowMs: number,
  segmentDurationMs: number,
  pipelineDelayMs: number,
  liveEdgeSegments = 3,
): boolean {
  const newestDue = Math.floor((nowMs - pipelineDelayMs) / segmentDurationMs) - 1;
  return k < newestDue - liveEdgeSegments;
}
