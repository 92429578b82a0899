import type { BridgeReport, EdgeReport, EdgeStatus, RegionStatus, Series } from '../contract/control-state.ts';
import type { EventStateView } from '../origin/event-origin.ts';
import { DEFECT_WINDOW_MS, EDGE_WINDOW_MS, windowDelta } from './alerts.ts';

/**
 * What spokes told the hub about one event, in the hub's memory only (docs/control-plane.md
 * "State and spokes"): the newest report of each bridge and its latest thumbnail, the last poll
 * of each region's origin, the edge isolates' counters over the last minute, and five minutes of
 * chart series. None of it survives a restart of the hub: every spoke reports again within
 * seconds, and the alerts that matter are in SQLite (orchestrator/alerts.ts).
 */

/** Chart points are kept this long (one per poll tick). */
export const SERIES_MS = 5 * 60_000;
export const SERIES_POINTS = 150;
/** Edge reports are kept this long (the edge-error-rate rule reads the last 30 s of it). */
const EDGE_KEEP_MS = 60_000;
/** A thumbnail larger than this is refused (a 320-pixel JPEG is about 20 KB). */
export const MAX_THUMBNAIL_BYTES = 512 * 1024;

export interface BridgeEntry {
  report: BridgeReport;
  /** The hub's clock when it arrived. */
  receivedAt: number;
}

export interface RegionPoll {
  failures: number;
  polledAt: number | null;
  /** The last successful poll's figures (kept while the region fails, so a blip shows as unreachable, not empty). */
  status: RegionStatus;
  segmentDurationMs: number | null;
  /** Cumulative (segments, defective) per pipeline, one sample per successful poll over the last minute. */
  samples: Map<string, { at: number; segments: number; defective: number }[]>;
}

export interface EdgeCounts {
  requests: number;
  cacheHits: number;
  status4xx: number;
  status5xx: number;
  sheds: number;
}

const zeroCounts = (): EdgeCounts => ({ requests: 0, cacheHits: 0, status4xx: 0, status5xx: 0, sheds: 0 });
const COUNT_KEYS = ['requests', 'cacheHits', 'status4xx', 'status5xx', 'sheds'] as const;

export class EventSpokes {
  readonly bridges = new Map<string, BridgeEntry>();
  readonly thumbnails = new Map<string, { bytes: ArrayBuffer; at: number }>();
  readonly regions = new Map<string, RegionPoll>();
  /** Edge reports as they arrived (hub clock), oldest first. */
  private edgeWindow: ({ at: number } & EdgeCounts)[] = [];
  /** Since the hub started: what /metrics exports as counters. */
  readonly edgeTotals: EdgeCounts = zeroCounts();
  readonly series: Series = { at: [], bitrateKbps: {}, publishLatencyMs: {}, requestsPerSecond: [], cacheHitRatio: [] };

  recordBridge(report: BridgeReport, now: number): BridgeEntry | undefined {
    const previous = this.bridges.get(report.pipeline);
    this.bridges.set(report.pipeline, { report, receivedAt: now });
    return previous;
  }

  recordThumbnail(pipeline: string, bytes: ArrayBuffer, now: number): void {
    this.thumbnails.set(pipeline, { bytes, at: now });
  }

  /**
   * One poll of a region's origin: its state; `no-state` when it answered without one (an object
   * that has no config yet); undefined when the poll failed (threw, timed out).
   */
  recordRegionPoll(region: string, state: EventStateView | 'no-state' | undefined, now: number): RegionPoll {
    let poll = this.regions.get(region);
    if (!poll) {
      poll = {
        failures: 0,
        polledAt: null,
        segmentDurationMs: null,
        samples: new Map(),
        status: unpolledRegion(region),
      };
      this.regions.set(region, poll);
    }
    poll.polledAt = now;
    if (!state) {
      poll.failures++;
      poll.status = { ...poll.status, reachable: false, polledAt: new Date(now).toISOString() };
      return poll;
    }
    poll.failures = 0;
    if (state === 'no-state') {
      poll.status = { ...poll.status, reachable: true, polledAt: new Date(now).toISOString() };
      return poll;
    }
    poll.segmentDurationMs = state.config.segmentDurationMs;
    poll.status = {
      region,
      reachable: true,
      polledAt: new Date(now).toISOString(),
      pipelines: state.pipelines.map((p) => ({
        pipeline: p.pipeline,
        status: p.status,
        lastK: p.lastK,
        latenessMs: p.latenessMs,
        segments: p.segments,
        defective: p.defective,
        defects: p.defects,
      })),
      storage: { bytes: state.storage.bytes, budgetBytes: state.storage.budgetBytes },
      servedByPipeline: state.servedByPipeline ?? {},
      activeCandidate: state.activeCandidate?.pipeline ?? null,
    };
    for (const p of state.pipelines) {
      const list = poll.samples.get(p.pipeline) ?? [];
      list.push({ at: now, segments: p.segments, defective: p.defective });
      // Keep one sample older than the window: the window's start value.
      while (list.length > 2 && list[1].at <= now - DEFECT_WINDOW_MS) list.shift();
      poll.samples.set(p.pipeline, list);
    }
    return poll;
  }

  /** Per pipeline: segments and defective candidates added over the last minute in this region. */
  defectWindow(region: string, now: number): Record<string, { segments: number; defective: number }> {
    const out: Record<string, { segments: number; defective: number }> = {};
    for (const [pipeline, samples] of this.regions.get(region)?.samples ?? [])
      out[pipeline] = windowDelta(samples, now);
    return out;
  }

  recordEdge(report: EdgeReport, now: number): void {
    const counts = zeroCounts();
    for (const key of COUNT_KEYS) {
      const n = report[key];
      counts[key] = Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
      this.edgeTotals[key] += counts[key];
    }
    this.edgeWindow.push({ at: now, ...counts });
    this.edgeWindow = this.edgeWindow.filter((e) => e.at > now - EDGE_KEEP_MS);
  }

  /** Edge counters summed over the last `windowMs`. */
  edgeCounts(now: number, windowMs = EDGE_WINDOW_MS): EdgeCounts {
    const sum = zeroCounts();
    for (const e of this.edgeWindow) {
      if (e.at <= now - windowMs) continue;
      for (const key of COUNT_KEYS) sum[key] += e[key];
    }
    return sum;
  }

  edgeStatus(now: number): EdgeStatus {
    const c = this.edgeCounts(now);
    const perSecond = (n: number) => Math.round((n / (EDGE_WINDOW_MS / 1000)) * 100) / 100;
    return {
      requestsPerSecond: perSecond(c.requests),
      cacheHitRatio: c.requests > 0 ? Math.round((c.cacheHits / c.requests) * 1000) / 1000 : 0,
      status4xxPerSecond: perSecond(c.status4xx),
      status5xxPerSecond: perSecond(c.status5xx),
      shedsPerSecond: perSecond(c.sheds),
    };
  }

  /**
   * One chart point: bitrate per track from the first pipeline (in preference order) whose bridge
   * reports it, publish lateness per pipeline (the bridge's, else the worst region's), the edge.
   */
  pushSeries(now: number, pipelines: string[]): void {
    const s = this.series;
    const bitrate: Record<string, number> = {};
    for (const p of pipelines) {
      const report = this.bridges.get(p)?.report;
      for (const [track, kbps] of Object.entries(report?.bitrateKbps ?? {})) bitrate[track] ??= kbps;
    }
    const latency: Record<string, number> = {};
    for (const p of pipelines) {
      const fromBridge = this.bridges.get(p)?.report.latenessMs;
      const fromRegions = [...this.regions.values()]
        .flatMap((r) => r.status.pipelines)
        .filter((x) => x.pipeline === p)
        .map((x) => x.latenessMs);
      const value = fromBridge ?? (fromRegions.length > 0 ? Math.max(...fromRegions) : undefined);
      if (value !== undefined && value !== null) latency[p] = value;
    }
    const edge = this.edgeStatus(now);
    const n = s.at.length;
    s.at.push(now);
    appendKeyed(s.bitrateKbps, bitrate, n);
    appendKeyed(s.publishLatencyMs, latency, n);
    s.requestsPerSecond.push(edge.requestsPerSecond);
    s.cacheHitRatio.push(edge.cacheHitRatio);
    // Five minutes, and never more than SERIES_POINTS (ticks can come closer than 2 s).
    let drop = 0;
    while (drop < s.at.length && (s.at[drop] <= now - SERIES_MS || s.at.length - drop > SERIES_POINTS)) drop++;
    if (drop > 0) {
      s.at.splice(0, drop);
      s.requestsPerSecond.splice(0, drop);
      s.cacheHitRatio.splice(0, drop);
      for (const list of [...Object.values(s.bitrateKbps), ...Object.values(s.publishLatencyMs)]) list.splice(0, drop);
    }
  }
}

/** Append one point to keyed series of `n` points: a new key starts with zeros, a missing one gets 0. */
function appendKeyed(target: Record<string, number[]>, values: Record<string, number>, n: number): void {
  for (const key of Object.keys(values)) target[key] ??= new Array<number>(n).fill(0);
  for (const [key, list] of Object.entries(target)) list.push(values[key] ?? 0);
}

/** Every event's spoke state, created on first use. */
export class Spokes {
  private readonly events = new Map<string, EventSpokes>();

  for(event: string): EventSpokes {
    let s = this.events.get(event);
    if (!s) {
      s = new EventSpokes();
      this.events.set(event, s);
    }
    return s;
  }

  peek(event: string): EventSpokes | undefined {
    return this.events.get(event);
  }

  /** Drop what is kept for events that no longer exist (deleted). */
  keepOnly(events: Set<string>): void {
    for (const event of this.events.keys()) if (!events.has(event)) this.events.delete(event);
  }
}

/** A region the hub has not heard from yet. */
export function unpolledRegion(region: string): RegionStatus {
  return {
    region,
    reachable: false,
    polledAt: null,
    pipelines: [],
    storage: null,
    servedByPipeline: {},
    activeCandidate: null,
  };
}
