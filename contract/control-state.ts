import { z } from 'zod';
import type { AuditEntry, EventDefinition, EventPhase } from './control-plane.ts';

/**
 * What spokes report to the hub and what the hub pushes to Control Room sessions (DESIGN §9).
 * Spokes: bridges push a BridgeReport over a WebSocket (`GET /api/hub/spoke`, the bridge's
 * scoped ingest token; a binary message is the pipeline's latest JPEG thumbnail); edge isolates
 * push EdgeReport counters by RPC; the hub polls each region's origin. Control Room sessions
 * (`GET /api/hub/watch`) receive WatchMessage JSON.
 */

/** One bridge's state, sent every 2 s and on every change of `state` or `inputPresent`. */
export const BridgeReport = z.object({
  kind: z.literal('bridge'),
  event: z.string(),
  pipeline: z.string(),
  /** The bridge's clock when it sent this (ms since the epoch). */
  at: z.number(),
  /** ffmpeg: `encoding`, `restarting` or `idle` (no feed yet, or a feed refused: `refusal`). */
  state: z.enum(['encoding', 'restarting', 'idle']),
  /**
   * Where the feed's UTC comes from: `sei` (a UTC SEI per picture), `pts` (the PTS is UTC) or
   * `arrival` (the bridge's clock: NOT redundant-safe); null before a feed is read. Optional: older bridges omit it.
   */
  utcCarrier: z.enum(['sei', 'pts', 'arrival']).nullable().optional(),
  /** Why the feed is not encoded (no usable UTC), null when it is. */
  refusal: z.string().nullable().optional(),
  /** A contribution feed arrived within the last 2 s. */
  inputPresent: z.boolean(),
  /** Which input holds the feed (`http`, `rtp`, `srt`) or null. */
  input: z.string().nullable(),
  /** Frames per second of the feed as probed (e.g. 30, 29.97), null before the first run. */
  frameRate: z.number().nullable(),
  /** The newest K published (any track), null before the first. */
  lastK: z.number().nullable(),
  /** How long after its due time the newest K was published (ms). */
  latenessMs: z.number().nullable(),
  segmentsPublished: z.number(),
  segmentsFailed: z.number(),
  ffmpegRestarts: z.number(),
  /** Bitrate of each rendition over the last segment (kbit/s), by track id. */
  bitrateKbps: z.record(z.string(), z.number()),
  /** SMPTE 2022-7 counters when the feed comes over two RTP paths. */
  paths: z
    .object({
      path1Packets: z.number(),
      path2Packets: z.number(),
      recoveredFromPath2: z.number(),
      lost: z.number(),
    })
    .nullable(),
});
export type BridgeReport = z.infer<typeof BridgeReport>;

/** One edge isolate's counters since its previous report. */
export interface EdgeReport {
  kind: 'edge';
  event: string;
  at: number;
  requests: number;
  cacheHits: number;
  status4xx: number;
  status5xx: number;
  sheds: number;
}

export interface PipelineStatus {
  pipeline: string;
  desired: 'running' | 'stopped';
  /** The bridge's WebSocket is open now. */
  connected: boolean;
  /** The newest report, null before the first. */
  bridge: BridgeReport | null;
  reportedAt: string | null;
  /** A thumbnail exists at /api/events/{event}/pipelines/{pipeline}/thumbnail.jpg. */
  thumbnailAt: string | null;
}

export interface RegionStatus {
  region: string;
  /** The origin answered the hub's last poll. */
  reachable: boolean;
  polledAt: string | null;
  /** The origin's view of each pipeline (status, lastK, lateness, defects). */
  pipelines: {
    pipeline: string;
    status: string;
    lastK: number;
    latenessMs: number;
    /** Segments (candidates) the pipeline stored in this region, and how many had defects. */
    segments: number;
    defective: number;
    defects: Record<string, number>;
  }[];
  storage: { bytes: number; budgetBytes: number } | null;
  /** Segments served to players per pipeline's candidate (counts since the origin started). */
  servedByPipeline: Record<string, number>;
  /** Which pipeline's candidate was served for the newest segment players asked for. */
  activeCandidate: string | null;
}

export interface EdgeStatus {
  requestsPerSecond: number;
  cacheHitRatio: number;
  status4xxPerSecond: number;
  status5xxPerSecond: number;
  shedsPerSecond: number;
}

export type AlertRule =
  | 'input-lost'
  | 'pipeline-late'
  | 'defect-rate'
  | 'region-down'
  | 'storage-near-budget'
  | 'edge-error-rate'
  | 'redundancy-lost';

export interface Alert {
  id: number;
  rule: AlertRule;
  event: string;
  /** What it is about: a pipeline (`A`), a region (`r2`) or `edge`. */
  subject: string;
  state: 'SET' | 'CLEARED';
  setAt: string;
  clearedAt: string | null;
  message: string;
  /** One line telling the operator what to do. */
  runbook: string;
}

/** A few minutes of figures for the Control Room's charts, oldest first, one point per poll. */
export interface Series {
  at: number[];
  /** By track id (the first pipeline that reports it). */
  bitrateKbps: Record<string, number[]>;
  /** Publish lateness per pipeline (ms). */
  publishLatencyMs: Record<string, number[]>;
  requestsPerSecond: number[];
  cacheHitRatio: number[];
}

export interface EventStatus {
  definition: EventDefinition;
  phase: EventPhase;
  pipelines: PipelineStatus[];
  regions: RegionStatus[];
  edge: EdgeStatus;
  alerts: Alert[];
  series: Series;
  timeline: AuditEntry[];
}

export type WatchMessage =
  | { type: 'snapshot'; at: string; events: EventStatus[] }
  /** Sent the moment a bridge reports, without waiting for the next snapshot (at most one a second). */
  | { type: 'pipeline'; event: string; status: PipelineStatus }
  | { type: 'alert'; alert: Alert };
