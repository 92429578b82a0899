import { describe, expect, it } from 'vitest';
import type { Alert, EventStatus } from '../contract/control-state.ts';
import { EventDefinition } from '../contract/control-plane.ts';
import { escapeLabel, formatMetrics } from './metrics.ts';
import { unpolledRegion } from './spokes.ts';

const definition = EventDefinition.parse({ id: 'final-2026', title: 'Final' });

function status(): EventStatus {
  return {
    definition,
    phase: 'live',
    pipelines: [
      {
        pipeline: 'A',
        desired: 'running',
        connected: true,
        reportedAt: '2026-12-02T10:00:00.000Z',
        thumbnailAt: null,
        bridge: {
          kind: 'bridge',
          event: 'final-2026',
          pipeline: 'A',
          at: 1,
          state: 'encoding',
          inputPresent: true,
          input: 'rtp',
          frameRate: 29.97,
          lastK: 885000001,
          latenessMs: 412,
          segmentsPublished: 120,
          segmentsFailed: 1,
          ffmpegRestarts: 0,
          bitrateKbps: { v1: 2800, a1: 128 },
          paths: { path1Packets: 1000, path2Packets: 998, recoveredFromPath2: 3, lost: 0 },
        },
      },
      { pipeline: 'B', desired: 'stopped', connected: false, bridge: null, reportedAt: null, thumbnailAt: null },
    ],
    regions: [
      {
        region: 'r1',
        reachable: true,
        polledAt: '2026-12-02T10:00:00.000Z',
        pipelines: [
          {
            pipeline: 'A',
            status: 'ok',
            lastK: 885000001,
            latenessMs: 380,
            segments: 240,
            defective: 2,
            defects: { 'duration-mismatch': 2 },
          },
        ],
        storage: { bytes: 123456, budgetBytes: 1_000_000 },
        servedByPipeline: { A: 77 },
        activeCandidate: 'A',
      },
      unpolledRegion('r2'),
    ],
    edge: { requestsPerSecond: 0, cacheHitRatio: 0, status4xxPerSecond: 0, status5xxPerSecond: 0, shedsPerSecond: 0 },
    alerts: [],
    series: { at: [], bitrateKbps: {}, publishLatencyMs: {}, requestsPerSecond: [], cacheHitRatio: [] },
    timeline: [],
  };
}

const alert = (state: 'SET' | 'CLEARED', subject: string): Alert => ({
  id: 1,
  rule: 'input-lost',
  event: 'final-2026',
  subject,
  state,
  setAt: '2026-12-02T10:00:00.000Z',
  clearedAt: null,
  message: 'x',
  runbook: 'y',
});

/**
 * The text exposition format 0.0.4, strictly: HELP and TYPE once per family, before its samples;
 * every sample of a declared family; names and label names from the allowed alphabet; label
 * values quoted with only \\, \" and \n escapes; a float value; a final newline.
 */
function parseStrict(
  text: string,
): Map<string, { type: string; samples: { labels: Record<string, string>; value: number }[] }> {
  expect(text.endsWith('\n')).toBe(true);
  const families = new Map<string, { type: string; samples: { labels: Record<string, string>; value: number }[] }>();
  const helped = new Set<string>();
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const VALUE = '(?:[+-]?(?:\\d+\\.?\\d*(?:[eE][+-]?\\d+)?|\\.\\d+(?:[eE][+-]?\\d+)?)|NaN|[+-]Inf)';
  const LABEL = `([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`;
  const sample = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?\\})? (${VALUE})$`);
  for (const line of text.slice(0, -1).split('\n')) {
    let m = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line);
    if (m) {
      expect(helped.has(m[1]), `HELP ${m[1]} twice`).toBe(false);
      helped.add(m[1]);
      continue;
    }
    m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (m) {
      expect(families.has(m[1]), `TYPE ${m[1]} twice`).toBe(false);
      expect(helped.has(m[1]), `TYPE ${m[1]} before its HELP`).toBe(true);
      families.set(m[1], { type: m[2], samples: [] });
      continue;
    }
    m = sample.exec(line);
    expect(m, `not a sample line: ${line}`).not.toBeNull();
    const family = families.get(m![1]);
    expect(family, `sample of undeclared ${m![1]}`).toBeDefined();
    const labels: Record<string, string> = {};
    for (const l of (m![2] ?? '').matchAll(new RegExp(LABEL, 'g'))) labels[l[1]] = l[2];
    family!.samples.push({ labels, value: Number(m![m!.length - 1]) });
    if (family!.type === 'counter') expect(m![1].endsWith('_total'), m![1]).toBe(true);
  }
  return families;
}

describe('GET /metrics text', () => {
  it('is valid exposition 0.0.4 with the figures of pipelines, regions, the edge and alerts', () => {
    const text = formatMetrics({
      events: [
        { status: status(), edgeTotals: { requests: 500, cacheHits: 450, status4xx: 7, status5xx: 2, sheds: 1 } },
      ],
      alerts: [alert('SET', 'A'), alert('CLEARED', 'B')],
      webhooks: { delivered: 3, failed: 1 },
    });
    const f = parseStrict(text);
    const value = (name: string, labels: Record<string, string>) =>
      f.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    const A = { event: 'final-2026', pipeline: 'A' };
    expect(value('live_event_phase', { event: 'final-2026', phase: 'live' })).toBe(1);
    expect(value('live_pipeline_last_k', A)).toBe(885000001);
    expect(value('live_pipeline_lateness_seconds', A)).toBe(0.412);
    expect(value('live_pipeline_input_present', A)).toBe(1);
    expect(value('live_pipeline_frame_rate', A)).toBe(29.97);
    expect(value('live_pipeline_segments_failed_total', A)).toBe(1);
    expect(value('live_rendition_bitrate_bits_per_second', { ...A, track: 'v1' })).toBe(2_800_000);
    expect(value('live_pipeline_path_packets_total', { ...A, path: '2' })).toBe(998);
    expect(value('live_pipeline_desired_running', { event: 'final-2026', pipeline: 'B' })).toBe(0);
    // B never reported: no bridge figures for it.
    expect(value('live_pipeline_last_k', { event: 'final-2026', pipeline: 'B' })).toBeUndefined();
    const r1A = { event: 'final-2026', region: 'r1', pipeline: 'A' };
    expect(value('live_region_up', { region: 'r1' })).toBe(1);
    expect(value('live_region_up', { region: 'r2' })).toBe(0);
    expect(value('live_region_pipeline_segments_total', r1A)).toBe(240);
    expect(value('live_region_pipeline_defects_total', { ...r1A, kind: 'duration-mismatch' })).toBe(2);
    expect(value('live_region_pipeline_lateness_seconds', r1A)).toBe(0.38);
    expect(value('live_region_served_segments_total', r1A)).toBe(77);
    expect(value('live_region_active_candidate', r1A)).toBe(1);
    expect(value('live_region_storage_bytes', { region: 'r1' })).toBe(123456);
    expect(value('live_edge_requests_total', { event: 'final-2026' })).toBe(500);
    expect(value('live_edge_cache_hits_total', { event: 'final-2026' })).toBe(450);
    expect(value('live_edge_responses_total', { class: '5xx' })).toBe(2);
    expect(value('live_edge_sheds_total', { event: 'final-2026' })).toBe(1);
    expect(value('live_alert_active', { rule: 'input-lost', subject: 'A' })).toBe(1);
    expect(value('live_alert_active', { rule: 'input-lost', subject: 'B' })).toBe(0);
    expect(value('live_alert_webhook_deliveries_total', { result: 'failed' })).toBe(1);
  });

  it('escapes label values and writes no sample for an unknown figure', () => {
    expect(escapeLabel('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    const s = status();
    s.pipelines[0].bridge!.bitrateKbps = { 'weird"track\\\n': 1 };
    s.pipelines[0].bridge!.frameRate = null;
    const text = formatMetrics({
      events: [{ status: s, edgeTotals: undefined }],
      alerts: [],
      webhooks: { delivered: 0, failed: 0 },
    });
    const f = parseStrict(text);
    expect(f.get('live_rendition_bitrate_bits_per_second')!.samples[0].labels.track).toBe('weird\\"track\\\\\\n');
    expect(f.has('live_pipeline_frame_rate')).toBe(false);
    expect(f.has('live_edge_requests_total')).toBe(false);
  });

  it('with no events: only the webhook counters', () => {
    const f = parseStrict(formatMetrics({ events: [], alerts: [], webhooks: { delivered: 0, failed: 0 } }));
    expect([...f.keys()]).toEqual(['live_alert_webhook_deliveries_total']);
  });
});
