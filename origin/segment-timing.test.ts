import { describe, expect, it } from 'vitest';
import { defaultEventConfig as config } from '../contract/event-config.ts';
import { expectedPublishMs } from '../contract/epoch.ts';
import { segmentTiming, windowStartK } from './segment-timing.ts';

const D = config.segmentDurationMs;
const now = 1_770_000_000_123;
const live = Math.floor(now / D);
const due = (k: number) => expectedPublishMs(k, D, config.pipelineDelayMs);

describe('segmentTiming', () => {
  it('holds the live-edge segment until its deadline', () => {
    const k = [live - 1, live, live + 1].find((k) => due(k) - now <= D && due(k) > now - D)!;
    expect(segmentTiming(k, now, config)).toEqual({ kind: 'hold', untilMs: due(k) + D + 4 * D });
  });
  it('says when an early segment is due (the edge makes its 404 expire just before)', () => {
    const k = live + 5;
    expect(segmentTiming(k, now, config)).toEqual({ kind: 'early', dueMs: due(k) });
    expect(segmentTiming(live + 100_000, now, config)).toEqual({ kind: 'early', dueMs: due(live + 100_000) });
  });
  it('keeps holding an overdue segment while a working pipeline has not moved past it, up to 4·D', () => {
    const k = live - 4;
    expect(segmentTiming(k, now, config, true).kind).toBe('gone');
    expect(segmentTiming(k, now, config, false)).toEqual({ kind: 'hold', untilMs: due(k) + 5 * D });
    expect(segmentTiming(k, due(k) + 5 * D + 1, config, false).kind).toBe('gone');
  });

  it('is gone when never produced or outside the window', () => {
    expect(segmentTiming(live - 5, now, config).kind).toBe('gone');
    expect(segmentTiming(windowStartK(now, config) - 1, now, config)).toMatchObject({
      kind: 'gone',
      reason: expect.stringMatching(/DVR window/),
    });
  });
});
