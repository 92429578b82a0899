import { describe, expect, it } from 'vitest';
import { type CmcdReport, emptyCmcdReport } from '../contract/cmcd-report.ts';
import { ViewerCounts } from './viewer-counts.ts';

const report = (patch: Partial<CmcdReport>): CmcdReport => ({ ...emptyCmcdReport(), ...patch });

describe('ViewerCounts', () => {
  it('adds up the reports of several isolates', () => {
    const counts = new ViewerCounts(0);
    counts.add(
      report({
        requests: { withCmcd: 3, withoutCmcd: 1, malformed: 0 },
        sessions: ['a', 'b'],
        bitrateKbps: { v: { '3000': 2 } },
        bufferStarvation: 1,
        startup: 2,
        streamType: { l: 3 },
        streamingFormat: { d: 3 },
        objectType: { v: 2, m: 1 },
      }),
      1000,
    );
    counts.add(
      report({
        requests: { withCmcd: 2, withoutCmcd: 0, malformed: 1 },
        sessions: ['b', 'c'],
        bitrateKbps: { v: { '3000': 1, '800': 1 } },
        streamType: { l: 2 },
        streamingFormat: { h: 2 },
        objectType: { v: 2 },
      }),
      2000,
    );
    expect(counts.view(3000)).toMatchObject({
      since: new Date(0).toISOString(),
      reports: 2,
      sessions: { active: 3, seen: 3, evicted: 0, dropped: 0, windowSeconds: 300 },
      requests: { withCmcd: 5, withoutCmcd: 1, malformed: 1 },
      bitrateKbps: { v: { '3000': 3, '800': 1 } },
      bufferStarvation: 1,
      startup: 2,
      streamType: { l: 5 },
      streamingFormat: { d: 3, h: 2 },
      objectType: { v: 4, m: 1 },
    });
  });

  it('counts a session as active for the window after its last report', () => {
    const counts = new ViewerCounts(0, 60_000);
    counts.add(report({ sessions: ['a', 'b'] }), 0);
    counts.add(report({ sessions: ['a'] }), 30_000);
    expect(counts.view(60_000).sessions.active).toBe(2);
    expect(counts.view(60_001).sessions.active).toBe(1); // b: last seen at 0
    expect(counts.view(90_001).sessions).toMatchObject({ active: 0, seen: 2 });
    counts.add(report({ sessions: ['b'] }), 100_000);
    expect(counts.view(100_000).sessions).toMatchObject({ active: 1, seen: 3 });
  });

  it('remembers at most maxSessions ids, forgetting the least recently seen', () => {
    const counts = new ViewerCounts(0, 60_000, 100);
    for (let i = 0; i < 10; i++)
      counts.add(report({ sessions: Array.from({ length: 50 }, (_, j) => `s${i * 50 + j}`) }), i);
    expect(counts.view(10).sessions).toMatchObject({ active: 100, evicted: 400, seen: 500 });
    // s0 was forgotten: seen again, it counts again and pushes out the oldest remembered one.
    counts.add(report({ sessions: ['s0'] }), 20);
    expect(counts.view(30).sessions).toMatchObject({ active: 100, evicted: 401, seen: 501 });
  });

  it('ignores nonsense in a report rather than growing or failing', () => {
    const counts = new ViewerCounts(0);
    counts.add({ requests: { withCmcd: -5, withoutCmcd: Number.NaN }, sessions: [1, 'x'.repeat(1000)] } as never, 0);
    const view = counts.view(0);
    expect(view.requests).toEqual({ withCmcd: 0, withoutCmcd: 0, malformed: 0 });
    expect(view.sessions.active).toBe(1);
  });
});
