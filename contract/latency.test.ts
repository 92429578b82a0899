import { describe, expect, it } from 'vitest';
import { defaultEventConfig, EventConfig, EventConfigPatch } from './event-config.ts';
import { LatencyConfig, resolveLatency } from './latency.ts';

describe('resolveLatency', () => {
  it('derives every absent field from D and the pipeline delay', () => {
    expect(resolveLatency(defaultEventConfig)).toEqual({
      targetMs: 3500,
      minMs: 2750,
      maxMs: 7500,
      playbackRate: { min: 0.96, max: 1.04 },
    });
    expect(resolveLatency({ segmentDurationMs: 6000, pipelineDelayMs: 0 })).toMatchObject({
      targetMs: 6000,
      minMs: 6000,
      maxMs: 18000,
    });
  });

  it('lets explicit fields win and keeps derived ones between them', () => {
    const at = (latency: LatencyConfig) => resolveLatency({ ...defaultEventConfig, latency });
    expect(at({ targetMs: 2000 })).toMatchObject({ targetMs: 2000, minMs: 2000, maxMs: 6000 });
    // An explicit min above the derived target raises the target; an explicit max below it lowers it.
    expect(at({ minMs: 5000 })).toMatchObject({ targetMs: 5000, minMs: 5000, maxMs: 9000 });
    expect(at({ maxMs: 3000 })).toMatchObject({ targetMs: 3000, minMs: 2750, maxMs: 3000 });
    expect(at({ playbackRate: { min: 1, max: 1 } }).playbackRate).toEqual({ min: 1, max: 1 });
  });
});

describe('LatencyConfig', () => {
  it('refuses unknown fields, inverted ranges and rates on the wrong side of 1', () => {
    for (const bad of [
      { target: 3000 },
      { targetMs: 3000, minMs: 4000 },
      { targetMs: 3000, maxMs: 2000 },
      { minMs: 5000, maxMs: 4000 },
      { targetMs: 100 },
      { playbackRate: { min: 1.1, max: 1.2 } },
      { playbackRate: { min: 0.9, max: 0.95 } },
      { targetMs: 3500.5 },
    ]) {
      expect(LatencyConfig.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('is optional in the event config and replaced whole by a PATCH; {} is the defaults', () => {
    expect(EventConfig.parse({}).latency).toBeUndefined();
    expect(EventConfigPatch.parse({ latency: { targetMs: 4000 } })).toEqual({ latency: { targetMs: 4000 } });
    expect(EventConfigPatch.parse({ latency: {} })).toEqual({ latency: {} });
    expect(EventConfigPatch.safeParse({ latency: { targetMs: 4000, minMs: 5000 } }).success).toBe(false);
  });
});
