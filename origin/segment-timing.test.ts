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
  it('answers early segments with a TTL that expires before they are due', () => {
    const k = live + 5;
    const t = segmentTiming(k, now, config);
    expect(t.kind).toBe('early');
    if (t.kind !== 'early') return;
    expect(now + t.maxAgeSeconds * 1000).toBeLessThan(due(k));
    expect(t.maxAgeSeconds).toBeGreaterThan(0);
  });
  it('caps the TTL of far-future segments', () => {
    const t = segmentTiming(live + 100_000, now, config);
    expect(t).toMatchObject({ kind: 'early', maxAgeSeconds: 300 });
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
