import { describe, expect, it } from 'vitest';
import { LOW_LATENCY_PLAYBACK_RATE, resolveLowLatency, streamsParts } from './low-latency.ts';

describe('resolveLowLatency', () => {
  const base = { segmentDurationMs: 2000, pipelineDelayMs: 1500 };

  it('derives the target from the part duration, and catches up faster than standard latency', () => {
    expect(resolveLowLatency(base)).toEqual({
      partDurationMs: 500,
      targetMs: 2000,
      minMs: 1000,
      maxMs: 4000,
      playbackRate: LOW_LATENCY_PLAYBACK_RATE,
    });
    expect(LOW_LATENCY_PLAYBACK_RATE.max).toBeGreaterThan(1.04);
    expect(resolveLowLatency({ ...base, latency: { partDurationMs: 333 } }).targetMs).toBe(1500);
  });

  it("keeps the event's own playback rate", () => {
    const playbackRate = { min: 1, max: 1.1 };
    expect(resolveLowLatency({ ...base, latency: { playbackRate } }).playbackRate).toEqual(playbackRate);
  });
});

describe('streamsParts', () => {
  const timing = { segmentDurationMs: 2000, pipelineDelayMs: 1500 };

  it('streams K from its parts until its due time (K+1)·D + pipelineDelayMs, not from then on', () => {
    const k = 900_000_000;
    const dueMs = (k + 1) * 2000 + 1500;
    expect(streamsParts(k, k * 2000 - 2000, timing)).toBe(true);
    expect(streamsParts(k, dueMs - 1, timing)).toBe(true);
    expect(streamsParts(k, dueMs, timing)).toBe(false);
    expect(streamsParts(k, dueMs + 2000, timing)).toBe(false);
  });
});
