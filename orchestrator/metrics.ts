import type { Alert, EventStatus } from '../contract/control-state.ts';
import type { EdgeCounts } from './spokes.ts';

/**
 * `GET /metrics` (docs/control-plane.md "Metrics"): the figures of every event's status in the
 * Prometheus text exposition format 0.0.4 — per pipeline what its bridge reports, per region what
 * its origin answered the hub's last poll, the edge's counters since the hub started, and each
 * alert's state (1 SET, 0 CLEARED). Counters the hub adds up itself restart at 0 with the hub.
 */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsInput {
  events: { status: EventStatus; edgeTotals: EdgeCounts | undefined }[];
  /** The newest alert of each (event, rule, subject). */
  alerts: Alert[];
  webhooks: { delivered: number; failed: number };
}

type Labels = Record<string, string>;

class Exposition {
  private readonly families = new Map<string, { help: string; type: 'gauge' | 'counter'; samples: string[] }>();

  add(
    name: string,
    type: 'gauge' | 'counter',
    help: string,
    labels: Labels,
    value: number | boolean | null | undefined,
  ): void {
    if (value === null || value === undefined) return;
    let family = this.families.get(name);
    if (!family) {
      family = { help, type, samples: [] };
      this.families.set(name, family);
    }
    const v = typeof value === 'boolean' ? (value ? 1 : 0) : value;
    const pairs = Object.entries(labels).map(([k, x]) => `${k}="${escapeLabel(x)}"`);
    family.samples.push(`${name}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''} ${formatValue(v)}`);
  }

  text(): string {
    const lines: string[] = [];
    for (const [name, f] of this.families) {
      lines.push(`# HELP ${name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${f.type}`);
      lines.push(...f.samples);
    }
    return `${lines.join('\n')}\n`;
  }
}

export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

const seconds = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : ms / 1000);

export function formatMetrics(input: MetricsInput): string {
  const m = new Exposition();
  for (const { status: s, edgeTotals } of input.events) {
    const event = s.definition.id;
    m.add(
      'live_event_phase',
      'gauge',
      'The phase of each event (1 for the phase it is in).',
      { event, phase: s.phase },
      1,
    );
    for (const p of s.pipelines) {
      const l = { event, pipeline: p.pipeline };
      m.add(
        'live_pipeline_desired_running',
        'gauge',
        'The hub wants this pipeline running.',
        l,
        p.desired === 'running',
      );
      m.add(
        'live_pipeline_connected',
        'gauge',
        "The pipeline's bridge has its WebSocket open to the hub.",
        l,
        p.connected,
      );
      const b = p.bridge;
      if (!b) continue;
      m.add(
        'live_pipeline_encoding',
        'gauge',
        "The bridge's ffmpeg is encoding (state encoding).",
        l,
        b.state === 'encoding',
      );
      m.add(
        'live_pipeline_input_present',
        'gauge',
        'A contribution feed arrived within the last 2 s.',
        l,
        b.inputPresent,
      );
      m.add('live_pipeline_frame_rate', 'gauge', 'Frames per second of the feed as probed.', l, b.frameRate);
      m.add('live_pipeline_last_k', 'gauge', 'The newest segment number K the bridge published.', l, b.lastK);
      m.add(
        'live_pipeline_lateness_seconds',
        'gauge',
        'How long after its due time the newest K was published (bridge clock).',
        l,
        seconds(b.latenessMs),
      );
      m.add(
        'live_pipeline_segments_published_total',
        'counter',
        'Segments the bridge published.',
        l,
        b.segmentsPublished,
      );
      m.add(
        'live_pipeline_segments_failed_total',
        'counter',
        'Segments the bridge failed to publish.',
        l,
        b.segmentsFailed,
      );
      m.add('live_pipeline_ffmpeg_restarts_total', 'counter', "Restarts of the bridge's ffmpeg.", l, b.ffmpegRestarts);
      for (const [track, kbps] of Object.entries(b.bitrateKbps))
        m.add(
          'live_rendition_bitrate_bits_per_second',
          'gauge',
          'Bitrate of each rendition over its last segment.',
          { ...l, track },
          kbps * 1000,
        );
      if (b.paths) {
        const help = 'RTP packets per SMPTE 2022-7 path.';
        m.add('live_pipeline_path_packets_total', 'counter', help, { ...l, path: '1' }, b.paths.path1Packets);
        m.add('live_pipeline_path_packets_total', 'counter', help, { ...l, path: '2' }, b.paths.path2Packets);
        m.add(
          'live_pipeline_path_recovered_total',
          'counter',
          'Packets path 1 lost that path 2 supplied.',
          l,
          b.paths.recoveredFromPath2,
        );
        m.add('live_pipeline_path_lost_total', 'counter', 'Packets lost on both paths.', l, b.paths.lost);
      }
    }
    for (const r of s.regions) {
      const l = { event, region: r.region };
      m.add('live_region_up', 'gauge', "The region's origin answered the hub's last poll.", l, r.reachable);
      if (r.storage) {
        m.add('live_region_storage_bytes', 'gauge', 'Bytes the origin stores for the event.', l, r.storage.bytes);
        m.add(
          'live_region_storage_budget_bytes',
          'gauge',
          "The origin's storage budget for the event.",
          l,
          r.storage.budgetBytes,
        );
      }
      for (const p of r.pipelines) {
        const lp = { ...l, pipeline: p.pipeline };
        m.add(
          'live_region_pipeline_status',
          'gauge',
          "The origin's status of each pipeline (1 for its status).",
          { ...lp, status: p.status },
          1,
        );
        m.add('live_region_pipeline_last_k', 'gauge', 'The newest K the origin stored from the pipeline.', lp, p.lastK);
        m.add(
          'live_region_pipeline_lateness_seconds',
          'gauge',
          'How long after expected_publish(K) the newest segment arrived at the origin.',
          lp,
          seconds(p.latenessMs),
        );
        m.add(
          'live_region_pipeline_segments_total',
          'counter',
          'Candidates the origin stored from the pipeline.',
          lp,
          p.segments,
        );
        m.add(
          'live_region_pipeline_defective_total',
          'counter',
          'Stored candidates that had defects.',
          lp,
          p.defective,
        );
        for (const [kind, n] of Object.entries(p.defects))
          m.add('live_region_pipeline_defects_total', 'counter', 'Defects by kind.', { ...lp, kind }, n);
      }
      for (const [pipeline, n] of Object.entries(r.servedByPipeline))
        m.add(
          'live_region_served_segments_total',
          'counter',
          "Segments the origin served to players (the edge's misses) by the pipeline of the candidate.",
          { ...l, pipeline },
          n,
        );
      if (r.activeCandidate)
        m.add(
          'live_region_active_candidate',
          'gauge',
          'The pipeline whose candidate was served for the newest segment (1).',
          { ...l, pipeline: r.activeCandidate },
          1,
        );
    }
    if (edgeTotals) {
      const l = { event };
      m.add('live_edge_requests_total', 'counter', 'Player requests the edge answered.', l, edgeTotals.requests);
      m.add('live_edge_cache_hits_total', 'counter', 'Answers from the edge cache.', l, edgeTotals.cacheHits);
      m.add(
        'live_edge_responses_total',
        'counter',
        'Error answers by class.',
        { ...l, class: '4xx' },
        edgeTotals.status4xx,
      );
      m.add(
        'live_edge_responses_total',
        'counter',
        'Error answers by class.',
        { ...l, class: '5xx' },
        edgeTotals.status5xx,
      );
      m.add(
        'live_edge_sheds_total',
        'counter',
        'Requests the edge or origin shed (503 OVERLOADED).',
        l,
        edgeTotals.sheds,
      );
    }
  }
  for (const a of input.alerts)
    m.add(
      'live_alert_active',
      'gauge',
      'Each alert rule and subject: 1 while SET, 0 once CLEARED.',
      { event: a.event, rule: a.rule, subject: a.subject },
      a.state === 'SET',
    );
  m.add(
    'live_alert_webhook_deliveries_total',
    'counter',
    'Alert webhook POSTs by result.',
    { result: 'delivered' },
    input.webhooks.delivered,
  );
  m.add(
    'live_alert_webhook_deliveries_total',
    'counter',
    'Alert webhook POSTs by result.',
    { result: 'failed' },
    input.webhooks.failed,
  );
  return m.text();
}
