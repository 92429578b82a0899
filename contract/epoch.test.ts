import { describe, expect, it } from 'vitest';
import {
  expectedPublishMs,
  firstSampleAtOrAfter,
  segmentNumberAt,
  segmentStartTicks,
  segmentTicks,
  tfdtWindow,
  unwrapPts,
  wrapPts,
  PTS_WRAP,
} from './epoch.ts';

const D = 2000;
const K = 897_797_225; // a segment in November 2026

describe('epoch math', () => {
  it('numbers segments from the Unix epoch', () => {
    expect(segmentNumberAt(K * D, D)).toBe(K);
    expect(segmentNumberAt(K * D + D - 1, D)).toBe(K);
    expect(segmentNumberAt(K * D + D, D)).toBe(K + 1);
  });

  it('30 fps video at 90 kHz: every boundary falls on a frame, tfdt is exactly K·D·timescale', () => {
    const frame = 3000;
    expect(segmentTicks(D, 90_000) / frame).toBe(60);
    const start = firstSampleAtOrAfter(segmentStartTicks(K, D, 90_000), 0, frame);
    expect(start).toBe(K * 180_000);
    expect(tfdtWindow(K, D, 90_000, frame)).toEqual([K * 180_000, K * 180_000 + frame]);
  });

  it('29.97 fps: segments start within one frame after K·D and average exactly D', () => {
    const frame = 3003; // 1001/30000 s at 90 kHz
    const starts: number[] = [];
    for (let k = K; k <= K + 30; k++) {
      const boundary = segmentStartTicks(k, D, 90_000);
      const s = firstSampleAtOrAfter(boundary, 0, frame);
      expect(s).toBeGreaterThanOrEqual(boundary);
      expect(s - boundary).toBeLessThan(frame);
      starts.push(s);
    }
    const durations = starts.slice(1).map((s, i) => s - starts[i]);
    expect(new Set(durations)).toEqual(new Set([59 * frame, 60 * frame])); // single segments differ by a frame
    const average = (starts[30] - starts[0]) / 30;
    expect(Math.abs(average - 180_000)).toBeLessThan(frame / 30); // the average stays D
  });

  it('48 kHz AAC: segments start on the first 1024-sample frame at or after K·D', () => {
    const frame = 1024;
    const boundary = segmentStartTicks(K, D, 48_000);
    const s = firstSampleAtOrAfter(boundary, 0, frame);
    expect(s % frame).toBe(0);
    expect(s - boundary).toBeGreaterThanOrEqual(0);
    expect(s - boundary).toBeLessThan(frame);
    // 93.75 frames per segment: four consecutive segments hold 94, 94, 94, 93 (in some rotation)
    const counts = [0, 1, 2, 3].map(
      (i) =>
        (firstSampleAtOrAfter(segmentStartTicks(K + i + 1, D, 48_000), 0, frame) -
          firstSampleAtOrAfter(segmentStartTicks(K + i, D, 48_000), 0, frame)) /
        frame,
    );
    expect(counts.reduce((a, b) => a + b, 0)).toBe(375);
  });

  it('rejects a segment duration that is not a whole number of ticks', () => {
    expect(() => segmentTicks(2001, 48_000)).not.toThrow();
    expect(() => segmentTicks(1001, 44_100)).toThrow(/whole number/);
  });

  it('predicts when a segment is due', () => {
    expect(expectedPublishMs(K, D, 1500)).toBe((K + 1) * D + 1500);
  });

  it('unwraps a 33-bit PTS with the local clock', () => {
    const utcTicks = K * 180_000 + 12_345;
    const { ticks } = unwrapPts(wrapPts(utcTicks), utcTicks / 90 + 5_000);
    expect(ticks).toBe(utcTicks);
    // a clock 12 h off still picks the right wrap
    expect(unwrapPts(wrapPts(utcTicks), utcTicks / 90 - 12 * 3600_000).ticks).toBe(utcTicks);
    expect(wrapPts(utcTicks)).toBeLessThan(PTS_WRAP);
  });
});
