import type { AuditEntry } from '../contract/control-plane.ts';
import type { Alert, EventStatus, PipelineStatus, RegionStatus } from '../contract/control-state.ts';
import { defaultEventConfig } from '../contract/event-config.ts';
import { EDGE_WINDOW_MS, type RuleInput } from './alerts.ts';
import type { DesiredState, StoredEvent } from './event-store.ts';
import { type EventSpokes, unpolledRegion } from './spokes.ts';

/**
 * One event's EventStatus (contract/control-state.ts) from the hub's records (definition, phase,
 * desired pipelines, audit, alerts) and what its spokes reported (orchestrator/spokes.ts): what
 * `GET /api/events/{event}` answers as `status`, what Control Room sessions receive in
 * snapshots, and what /metrics is made of.
 */
/** EventStatus as JSON answers type it: an audit entry's detail is whatever JSON its writer stored. */
export type EventStatusJson = Omit<EventStatus, 'timeline'> & {
  timeline: (Omit<AuditEntry, 'detail'> & { detail: string | number | boolean | null | object })[];
};

export interface StatusInputs {
  stored: StoredEvent;
  desired: Record<string, DesiredState>;
  spokes: EventSpokes | undefined;
  /** Pipelines whose bridge has a WebSocket open to the hub now. */
  connected: Set<string>;
  alerts: Alert[];
  timeline: AuditEntry[];
  now: number;
}

/** One pipeline's tile: in every snapshot, and pushed alone the moment its bridge reports. */
export function buildPipelineStatus(
  pipeline: string,
  i: Pick<StatusInputs, 'desired' | 'spokes' | 'connected'>,
): PipelineStatus {
  const iso = (t: number) => new Date(t).toISOString();
  const bridge = i.spokes?.bridges.get(pipeline);
  const thumb = i.spokes?.thumbnails.get(pipeline);
  return {
    pipeline,
    desired: i.desired[pipeline] ?? 'stopped',
    connected: i.connected.has(pipeline),
    bridge: bridge?.report ?? null,
    reportedAt: bridge ? iso(bridge.receivedAt) : null,
    thumbnailAt: thumb ? iso(thumb.at) : null,
  };
}

export function buildEventStatus(i: StatusInputs): EventStatus {
  const def = i.stored.definition;
  const pipelines = def.pipelines.map((pipeline) => buildPipelineStatus(pipeline, i));
  const regions: RegionStatus[] = def.regions.map(
    (region) => i.spokes?.regions.get(region)?.status ?? unpolledRegion(region),
  );
  const empty = { at: [], bitrateKbps: {}, publishLatencyMs: {}, requestsPerSecond: [], cacheHitRatio: [] };
  return {
    definition: def,
    phase: i.stored.phase,
    pipelines,
    regions,
    edge: i.spokes?.edgeStatus(i.now) ?? {
      requestsPerSecond: 0,
      cacheHitRatio: 0,
      status4xxPerSecond: 0,
      status5xxPerSecond: 0,
      shedsPerSecond: 0,
    },
    alerts: i.alerts,
    series: i.spokes?.series ?? empty,
    timeline: i.timeline,
  };
}

/**
 * What the alert rules read about one event. `desiredSince` is when each pipeline was last set
 * running; a bridge is expected to report from then on, or from the hub's own start (a hub that
 * restarted has heard from nobody yet and must not call every input lost at once).
 */
export function ruleInputFor(
  stored: StoredEvent,
  desired: Record<string, { desired: DesiredState; since: number }>,
  spokes: EventSpokes | undefined,
  hubStartedAt: number,
  now: number,
): RuleInput {
  const def = stored.definition;
  return {
    now,
    segmentDurationMs:
      [...(spokes?.regions.values() ?? [])].find((r) => r.segmentDurationMs !== null)?.segmentDurationMs ??
      defaultEventConfig.segmentDurationMs,
    pipelines: def.pipelines.map((pipeline) => {
      const d = desired[pipeline] ?? { desired: 'stopped' as const, since: now };
      const expectedSince = Math.max(d.since, hubStartedAt);
      const bridge = spokes?.bridges.get(pipeline);
      // A report from before the pipeline was (re)started says nothing about the new bridge.
      const current = bridge && bridge.receivedAt >= d.since ? bridge : undefined;
      return {
        pipeline,
        desired: d.desired,
        expectedSince,
        lastReportAt: current?.receivedAt ?? null,
        inputPresent: current ? current.report.inputPresent : null,
      };
    }),
    regions: def.regions.map((region) => {
      const poll = spokes?.regions.get(region);
      return {
        region,
        consecutiveFailures: poll?.failures ?? 0,
        pipelines: poll?.status.pipelines ?? [],
        storage: poll?.status.storage ?? null,
        defectWindow: spokes?.defectWindow(region, now) ?? {},
      };
    }),
    edge: spokes ? spokes.edgeCounts(now, EDGE_WINDOW_MS) : { requests: 0, status5xx: 0 },
  };
}
