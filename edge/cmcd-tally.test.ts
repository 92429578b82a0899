import { describe, expect, it } from 'vitest';
import { MAX_BITRATES, MAX_REPORT_SESSIONS, MAX_SID_LENGTH } from '../contract/cmcd-report.ts';
import type { CmcdReading } from './cmcd.ts';
import { CMCD_REPORT_INTERVAL_MS, CmcdTally } from './cmcd-tally.ts';

const present = (data: Record<string, unknown>): CmcdReading => ({ state: 'present', data }) as CmcdReading;

describe('CmcdTally', () => {
  it('counts sessions, bitrates, starvation, startup, stream type and format, with and without CMCD', () => {
    const tally = new CmcdTally();
    tally.record('ev', present({ sid: 's1', br: [3000], ot: 'v', st: 'l', sf: 'd', su: true }));
    tally.record('ev', present({ sid: 's1', br: [3000], ot: 'v', st: 'l', sf: 'd', bs: true }));
    tally.record('ev', present({ sid: 's2', br: [800], ot: 'v', st: 'l', sf: 'h' }));
    tally.record('ev', present({ sid: 's2', br: [128], ot: 'a', st: 'l', sf: 'h' }));
    tally.record('ev', present({ ot: 'm' }));
    tally.record('ev', { state: 'absent' });
    tally.record('ev', { state: 'malformed' });
    tally.record('other', { state: 'absent' });
    expect(tally.take('ev', 0)).toEqual({
      requests: { withCmcd: 5, withoutCmcd: 1, malformed: 1 },
      sessions: ['s1', 's2'],
      sessionsDropped: 0,
      bitrateKbps: { v: { '3000': 2, '800': 1 }, a: { '128': 1 } },
      bufferStarvation: 1,
      startup: 1,
      streamType: { l: 4 },
      streamingFormat: { d: 2, h: 2 },
      objectType: { v: 3, a: 1, m: 1 },
    });
    // Taken: nothing left for ev; the other event is its own.
    expect(tally.take('ev', 0, true)).toBeUndefined();
    expect(tally.take('other', 0)?.requests.withoutCmcd).toBe(1);
  });

  it('counts a token CMCD does not define as "?": no player-chosen key, no prototype pollution', () => {
    const tally = new CmcdTally();
    tally.record('ev', present({ ot: '__proto__', br: [3000], st: 'constructor', sf: 'x'.repeat(100) }));
    tally.record('ev', present({ ot: 'toString', br: [800] }));
    const report = tally.take('ev', 0)!;
    expect(report.bitrateKbps).toEqual({ '?': { '3000': 1, '800': 1 } });
    expect(report.objectType).toEqual({ '?': 2 });
    expect(report.streamType).toEqual({ '?': 1 });
    expect(report.streamingFormat).toEqual({ '?': 1 });
    expect(Object.hasOwn(Object.prototype, '3000')).toBe(false);
  });

  it('reports an event at most every interval, unless forced', () => {
    const tally = new CmcdTally();
    tally.record('ev', { state: 'absent' });
    expect(tally.take('ev', 1000)).toBeDefined();
    tally.record('ev', { state: 'absent' });
    expect(tally.take('ev', 1000 + CMCD_REPORT_INTERVAL_MS - 1)).toBeUndefined();
    expect(tally.take('ev', 1000 + CMCD_REPORT_INTERVAL_MS)?.requests.withoutCmcd).toBe(1);
    tally.record('ev', { state: 'absent' });
    expect(tally.take('ev', 1000 + CMCD_REPORT_INTERVAL_MS + 1, true)?.requests.withoutCmcd).toBe(1);
  });

  it('bounds what one report holds: session ids, their length, distinct bitrates', () => {
    const tally = new CmcdTally();
    for (let i = 0; i < MAX_REPORT_SESSIONS + 10; i++) tally.record('ev', present({ sid: `s${i}` }));
    tally.record('ev', present({ sid: 's0' })); // already in: not dropped
    tally.record('ev', present({ sid: 'x'.repeat(500) }));
    for (let kbps = 1; kbps <= MAX_BITRATES + 5; kbps++) tally.record('ev', present({ br: [kbps], ot: 'v' }));
    const report = tally.take('ev', 0)!;
    expect(report.sessions).toHaveLength(MAX_REPORT_SESSIONS);
    expect(report.sessionsDropped).toBe(11);
    expect(Math.max(...report.sessions.map((s) => s.length))).toBeLessThanOrEqual(MAX_SID_LENGTH);
    expect(Object.keys(report.bitrateKbps.v)).toHaveLength(MAX_BITRATES + 1);
    expect(report.bitrateKbps.v.other).toBe(5);
  });
});
