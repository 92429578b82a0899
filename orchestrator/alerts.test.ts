import { describe, expect, it } from 'vitest';
import {
  type Condition,
  diffAlerts,
  evaluateRules,
  INPUT_SILENCE_MS,
  RUNBOOKS,
  type RuleInput,
  windowDelta,
} from './alerts.ts';

const NOW = 1_800_000_000_000;
const D = 2000;

/** A healthy event: A and B running and reporting, both regions answering, a quiet edge. */
function healthy(): RuleInput {
  const pipeline = (p: string) => ({
    pipeline: p,
    desired: 'running' as const,
    expectedSince: NOW - 60_000,
    lastReportAt: NOW - 1000,
    inputPresent: true,
  });
  const region = (r: string) => ({
    region: r,
    consecutiveFailures: 0,
    pipelines: [
      { pipeline: 'A', status: 'ok', latenessMs: 300 },
      { pipeline: 'B', status: 'ok', latenessMs: 350 },
    ],
    storage: { bytes: 100, budgetBytes: 1000 },
    defectWindow: { A: { segments: 30, defective: 0 }, B: { segments: 30, defective: 1 } },
  });
  return {
    now: NOW,
    segmentDurationMs: D,
    pipelines: [pipeline('A'), pipeline('B')],
    regions: [region('r1'), region('r2')],
    edge: { requests: 1000, status5xx: 3 },
  };
}
const rules = (input: RuleInput) => evaluateRules(input).map((c) => `${c.rule}:${c.subject}`);

describe('alert rules', () => {
  it('a healthy event holds no condition', () => {
    expect(evaluateRules(healthy())).toEqual([]);
  });

  it('input-lost: the bridge says no feed, or has not reported for 6 s; only for running pipelines', () => {
    const noFeed = healthy();
    noFeed.pipelines[0].inputPresent = false;
    expect(rules(noFeed)).toEqual(['input-lost:A']);

    const silent = healthy();
    silent.pipelines[1].lastReportAt = NOW - INPUT_SILENCE_MS - 1;
    expect(rules(silent)).toEqual(['input-lost:B']);
    silent.pipelines[1].lastReportAt = NOW - INPUT_SILENCE_MS;
    expect(rules(silent)).toEqual([]);

    // Never reported: counted from when it was started (or the hub's start).
    const neverHeard = healthy();
    neverHeard.pipelines[0].lastReportAt = null;
    neverHeard.pipelines[0].inputPresent = null;
    neverHeard.pipelines[0].expectedSince = NOW - 3000;
    expect(rules(neverHeard)).toEqual([]);
    neverHeard.pipelines[0].expectedSince = NOW - 7000;
    expect(evaluateRules(neverHeard)[0].message).toContain('since it was started');

    const stopped = healthy();
    stopped.pipelines[0] = { ...stopped.pipelines[0], desired: 'stopped', inputPresent: false, lastReportAt: null };
    stopped.regions.forEach((r) => {
      r.pipelines[0].status = 'down';
    });
    // A stopped pipeline is never input-lost or late; running on the other alone is redundancy-lost.
    expect(rules(stopped)).toEqual(['redundancy-lost:A']);
    expect(evaluateRules(stopped)[0].message).toBe('pipeline A is stopped: the event runs on B alone');
  });

  it('redundancy-lost: only while the event runs on another pipeline, and only for events with more than one', () => {
    const both = healthy();
    both.pipelines.forEach((p) => {
      p.desired = 'stopped';
    });
    expect(rules(both).filter((r) => r.startsWith('redundancy-lost'))).toEqual([]);
    const single = healthy();
    single.pipelines = [single.pipelines[0]];
    expect(rules(single)).toEqual([]);
  });

  it('pipeline-late: the origin sees a running pipeline more than D late, or down; one alert across regions', () => {
    const late = healthy();
    late.regions[0].pipelines[0].latenessMs = D + 1;
    late.regions[1].pipelines[0].status = 'down';
    const c = evaluateRules(late);
    expect(c.map((x) => `${x.rule}:${x.subject}`)).toEqual(['pipeline-late:A']);
    expect(c[0].message).toContain('2 s late in r1');
    expect(c[0].message).toContain('down in r2');
    late.regions[0].pipelines[0].latenessMs = D;
    late.regions[1].pipelines[0].status = 'late';
    expect(rules(late)).toEqual([]);
  });

  it('defect-rate: more than 5% defective over the last minute, with enough segments to say so', () => {
    const bad = healthy();
    bad.regions[1].defectWindow.B = { segments: 30, defective: 2 };
    expect(rules(bad)).toEqual(['defect-rate:B']);
    bad.regions[1].defectWindow.B = { segments: 40, defective: 2 };
    expect(rules(bad)).toEqual([]);
    bad.regions[1].defectWindow.B = { segments: 4, defective: 4 };
    expect(rules(bad)).toEqual([]);
  });

  it('region-down: two failed polls in a row; its other figures are not judged meanwhile', () => {
    const down = healthy();
    down.regions[1].consecutiveFailures = 1;
    expect(rules(down)).toEqual([]);
    down.regions[1].consecutiveFailures = 2;
    down.regions[1].pipelines[0].latenessMs = 99_999;
    expect(rules(down)).toEqual(['region-down:r2']);
  });

  it('storage-near-budget: at 90% of the budget', () => {
    const full = healthy();
    full.regions[0].storage = { bytes: 899, budgetBytes: 1000 };
    expect(rules(full)).toEqual([]);
    full.regions[0].storage = { bytes: 900, budgetBytes: 1000 };
    expect(rules(full)).toEqual(['storage-near-budget:r1']);
    expect(evaluateRules(full)[0].message).toContain('90%');
  });

  it('edge-error-rate: 5xx over 5% of the requests of the last 30 s, with enough requests', () => {
    const errors = healthy();
    errors.edge = { requests: 100, status5xx: 6 };
    expect(rules(errors)).toEqual(['edge-error-rate:edge']);
    errors.edge = { requests: 100, status5xx: 5 };
    expect(rules(errors)).toEqual([]);
    errors.edge = { requests: 5, status5xx: 5 };
    expect(rules(errors)).toEqual([]);
  });

  it('every rule has a one-line runbook', () => {
    for (const line of Object.values(RUNBOOKS)) {
      expect(line.length).toBeGreaterThan(20);
      expect(line).not.toContain('\n');
    }
  });
});

describe('SET and CLEARED', () => {
  const c = (rule: Condition['rule'], subject: string): Condition => ({ rule, subject, message: '' });
  it('opens what newly holds, clears what no longer holds, leaves the rest', () => {
    const active = [
      { rule: 'input-lost' as const, subject: 'A' },
      { rule: 'region-down' as const, subject: 'r2' },
    ];
    const { set, cleared } = diffAlerts(active, [c('input-lost', 'A'), c('input-lost', 'B'), c('pipeline-late', 'A')]);
    expect(set.map((x) => `${x.rule}:${x.subject}`)).toEqual(['input-lost:B', 'pipeline-late:A']);
    expect(cleared).toEqual([{ rule: 'region-down', subject: 'r2' }]);
    expect(diffAlerts([], [])).toEqual({ set: [], cleared: [] });
  });
});

describe('windowDelta', () => {
  it('adds up what happened since the window began, from cumulative samples', () => {
    const samples = [
      { at: NOW - 70_000, segments: 10, defective: 1 },
      { at: NOW - 58_000, segments: 14, defective: 1 },
      { at: NOW - 2000, segments: 40, defective: 5 },
      { at: NOW, segments: 42, defective: 6 },
    ];
    // The window starts at NOW − 60 s: the sample at NOW − 70 s is its start value.
    expect(windowDelta(samples, NOW)).toEqual({ segments: 32, defective: 5 });
    expect(windowDelta(samples.slice(1), NOW)).toEqual({ segments: 28, defective: 5 });
    expect(windowDelta(samples.slice(3), NOW)).toEqual({ segments: 0, defective: 0 });
    // An origin that restarted (counters back to 0) adds nothing negative.
    expect(windowDelta([...samples, { at: NOW + 2000, segments: 1, defective: 0 }], NOW + 2000)).toEqual({
      segments: 0,
      defective: 0,
    });
  });
});
