import { describe, expect, it } from 'vitest';
import type { BridgeReport } from '../contract/control-state.ts';
import { EdgeTally } from '../edge/edge-reports.ts';
import type { EventStateView } from '../origin/event-origin.ts';
import { EventSpokes, SERIES_POINTS } from './spokes.ts';

const NOW = 1_800_000_000_000;

const bridge = (pipeline: string, over: Partial<BridgeReport> = {}): BridgeReport => ({
  kind: 'bridge',
  event: 'e',
  pipeline,
  at: NOW,
  state: 'encoding',
  inputPresent: true,
  input: 'http',
  frameRate: 30,
  lastK: 10,
  latenessMs: 200,
  segmentsPublished: 1,
  segmentsFailed: 0,
  ffmpegRestarts: 0,
  bitrateKbps: {},
  paths: null,
  ...over,
});

/** Only what the hub reads of an origin's eventState(). */
const originState = (segments: number, defective: number): EventStateView =>
  ({
    config: { segmentDurationMs: 2000 },
    pipelines: [{ pipeline: 'A', status: 'ok', lastK: 5, latenessMs: 100, segments, defective, defects: {} }],
    storage: { bytes: 10, budgetBytes: 100 },
    servedByPipeline: { A: 3 },
    activeCandidate: { pipeline: 'A', k: 5 },
  }) as unknown as EventStateView;

describe('EventSpokes', () => {
  it('a region poll: figures on success, failures counted (keeping the last figures), reachable again after', () => {
    const s = new EventSpokes();
    s.recordRegionPoll('r1', originState(10, 0), NOW);
    expect(s.regions.get('r1')!.status).toMatchObject({
      reachable: true,
      servedByPipeline: { A: 3 },
      activeCandidate: 'A',
      storage: { bytes: 10, budgetBytes: 100 },
    });
    s.recordRegionPoll('r1', undefined, NOW + 2000);
    s.recordRegionPoll('r1', undefined, NOW + 4000);
    const down = s.regions.get('r1')!;
    expect(down.failures).toBe(2);
    expect(down.status.reachable).toBe(false);
    expect(down.status.pipelines[0].segments).toBe(10);
    s.recordRegionPoll('r1', 'no-state', NOW + 6000);
    expect(s.regions.get('r1')!.failures).toBe(0);
    expect(s.regions.get('r1')!.status.reachable).toBe(true);
  });

  it('the defect window reads the last minute of polls', () => {
    const s = new EventSpokes();
    for (let i = 0; i <= 40; i++) s.recordRegionPoll('r1', originState(i * 2, i >= 30 ? i - 29 : 0), NOW + i * 2000);
    // At NOW + 80 s: the window starts at NOW + 20 s (poll 10: 20 segments, 0 defective).
    expect(s.defectWindow('r1', NOW + 80_000)).toEqual({ A: { segments: 60, defective: 11 } });
    // Samples older than the window are dropped but one (its start value).
    expect(s.regions.get('r1')!.samples.get('A')!.length).toBeLessThanOrEqual(32);
  });

  it('edge reports: rates over 30 s, totals since the start, junk counted as 0', () => {
    const s = new EventSpokes();
    const r = { kind: 'edge' as const, event: 'e', at: 0, cacheHits: 50, status4xx: 3, status5xx: 6, sheds: 0 };
    s.recordEdge({ ...r, requests: 60 }, NOW - 40_000);
    s.recordEdge({ ...r, requests: 60 }, NOW - 10_000);
    s.recordEdge({ ...r, requests: Number.NaN, cacheHits: -5 }, NOW);
    expect(s.edgeCounts(NOW)).toEqual({ requests: 60, cacheHits: 50, status4xx: 6, status5xx: 12, sheds: 0 });
    expect(s.edgeStatus(NOW)).toEqual({
      requestsPerSecond: 2,
      cacheHitRatio: 0.833,
      status4xxPerSecond: 0.2,
      status5xxPerSecond: 0.4,
      shedsPerSecond: 0,
    });
    expect(s.edgeTotals.requests).toBe(120);
  });

  it('series: aligned points, a track that appears later padded with zeros, five minutes at most', () => {
    const s = new EventSpokes();
    s.recordBridge(bridge('A', { bitrateKbps: { v1: 900 } }), NOW);
    s.pushSeries(NOW, ['A', 'B']);
    s.recordBridge(bridge('B', { bitrateKbps: { v1: 1, v2: 400 }, latenessMs: 300 }), NOW);
    s.pushSeries(NOW + 2000, ['A', 'B']);
    expect(s.series.bitrateKbps).toEqual({ v1: [900, 900], v2: [0, 400] });
    expect(s.series.publishLatencyMs).toEqual({ A: [200, 200], B: [0, 300] });
    for (let i = 2; i < 400; i++) s.pushSeries(NOW + i * 2000, ['A', 'B']);
    expect(s.series.at.length).toBe(SERIES_POINTS);
    expect(s.series.at[0]).toBe(NOW + 250 * 2000);
    for (const list of [...Object.values(s.series.bitrateKbps), s.series.requestsPerSecond, s.series.cacheHitRatio])
      expect(list.length).toBe(SERIES_POINTS);
  });
});

describe('EdgeTally (edge/edge-reports.ts)', () => {
  it('counts hits, errors and sheds, and reports an event at most every 5 s', () => {
    const t = new EdgeTally();
    t.record('e', 200, 'hot');
    t.record('e', 200, 'origin');
    t.record('e', 304, 'shared');
    t.record('e', 404, 'coalesced');
    t.record('e', 503, 'shed');
    t.record('e', 502, 'origin');
    expect(t.take('e', NOW)).toEqual({
      kind: 'edge',
      event: 'e',
      at: NOW,
      requests: 6,
      cacheHits: 3,
      status4xx: 1,
      status5xx: 2,
      sheds: 1,
    });
    t.record('e', 200, 'hot');
    expect(t.take('e', NOW + 4999)).toBeUndefined();
    expect(t.take('e', NOW + 5000)?.requests).toBe(1);
    expect(t.take('e', NOW + 20_000)).toBeUndefined();
  });
});
