import { describe, expect, it } from 'vitest';
import { PTS_WRAP, wrapPts } from '../contract/epoch.ts';
import { AAC_FRAME_SAMPLES, audioTrimSamples, planTiming } from './timing-plan.ts';

const D = 2000;

describe('planTiming', () => {
  it('maps the wrapped PTS of a frame to t = UTC − base with base on a boundary', () => {
    const utcMs = 1_795_594_052_000; // an even second: on the 2 s grid
    const pts = wrapPts(utcMs * 90);
    const plan = planTiming({ firstPts33: pts, nowMs: utcMs + 300, segmentDurationMs: D, audioSampleRate: 48_000 });
    expect(plan.baseMs % D).toBe(0);
    // ffmpeg computes t = pts + itsoffset; for the first frame that is UTC − base
    const t = pts / 90_000 + Number(plan.itsOffset);
    expect(t).toBeCloseTo((utcMs - plan.baseMs) / 1000, 5);
  });

  it('starts on the first boundary that leaves the lead-in before it', () => {
    const utcMs = 1_795_594_053_500; // 1.5 s into a segment
    const plan = planTiming({
      firstPts33: wrapPts(utcMs * 90),
      nowMs: utcMs,
      segmentDurationMs: D,
      audioSampleRate: 48_000,
      leadInMs: 1200,
    });
    expect(plan.baseMs).toBe(1_795_594_052_000);
    expect(plan.startSeconds).toBe(4); // 1.5 + 1.2 = 2.7 → next boundary at 4
    expect(plan.firstSegment).toBe((1_795_594_052_000 + 4000) / D);
    expect(plan.videoTrimPts).toBe(4 * 90_000);
  });

  it('puts audio on the AAC frame grid counted from the Unix epoch, at or after the start', () => {
    const utcMs = 1_795_594_052_000;
    const plan = planTiming({
      firstPts33: wrapPts(utcMs * 90),
      nowMs: utcMs,
      segmentDurationMs: D,
      audioSampleRate: 48_000,
    });
    const absolute = plan.baseMs * 48 + plan.audioTrimPts;
    expect(absolute % AAC_FRAME_SAMPLES).toBe(0);
    const boundary = (plan.baseMs + plan.startSeconds * 1000) * 48;
    expect(absolute).toBeGreaterThanOrEqual(boundary);
    expect(absolute - boundary).toBeLessThan(AAC_FRAME_SAMPLES);
  });

  it('chooses the wrap count from the local clock even across a 33-bit wrap', () => {
    // a PTS just before the wrap while the local clock is just after it
    const wrapUtcTicks = Math.ceil((1_795_594_052_000 * 90) / PTS_WRAP) * PTS_WRAP;
    const frameTicks = wrapUtcTicks - 90_000 * 4; // 4 s before the wrap instant
    const plan = planTiming({
      firstPts33: wrapPts(frameTicks),
      nowMs: (wrapUtcTicks + 90_000) / 90,
      segmentDurationMs: D,
      audioSampleRate: 48_000,
    });
    const t = wrapPts(frameTicks) / 90_000 + Number(plan.itsOffset);
    expect(plan.baseMs + t * 1000).toBeCloseTo(frameTicks / 90, 1);
  });
});

describe("planTiming with the feed's frame grid", () => {
  it('is 0 when frames sit on the epoch grid (30 fps from a whole second)', () => {
    const utcMs = 1_795_594_053_500;
    const pts = wrapPts(utcMs * 90);
    const plan = planTiming({
      firstPts33: pts,
      nowMs: utcMs,
      segmentDurationMs: D,
      audioSampleRate: 48_000,
      videoGrid: { pts33: pts, frameTicks: 3000 },
    });
    expect(plan.firstFrameOffsetSeconds).toBe(0);
  });

  it('is the distance to the first 29.97 frame after S, less than one frame', () => {
    const t0 = 1_795_594_053_000; // frames at t0 + n·1001/30000 s
    const pts = wrapPts(t0 * 90);
    const plan = planTiming({
      firstPts33: pts,
      nowMs: t0,
      segmentDurationMs: D,
      audioSampleRate: 48_000,
      videoGrid: { pts33: pts, frameTicks: 3003 },
    });
    const startTicks = (plan.baseMs + plan.startSeconds * 1000) * 90;
    const n = Math.ceil((startTicks - t0 * 90) / 3003);
    expect(plan.firstFrameOffsetSeconds).toBeCloseTo((t0 * 90 + n * 3003 - startTicks) / 90_000, 6);
    expect(plan.firstFrameOffsetSeconds).toBeLessThan(3003 / 90_000);
  });
});

describe('audioTrimSamples', () => {
  const utcMs = 1_795_594_053_500;
  const plan = planTiming({
    firstPts33: wrapPts(utcMs * 90),
    nowMs: utcMs,
    segmentDurationMs: D,
    audioSampleRate: 48_000,
  });
  const startAbs = (plan.baseMs + plan.startSeconds * 1000) * 48;

  it('is audioTrimPts for AAC-LC (1024-sample frames, 1024 priming)', () => {
    expect(audioTrimSamples(plan, { frameSamples: 1024, primingSamples: 1024 })).toBe(plan.audioTrimPts);
  });

  it('puts E-AC-3 packets on the 1536 grid from the epoch, the priming packet before S', () => {
    const trim = audioTrimSamples(plan, { frameSamples: 1536, primingSamples: 256 });
    const firstPacket = plan.baseMs * 48 + trim - 256;
    expect(firstPacket % 1536).toBe(0);
    expect(firstPacket).toBeLessThan(startAbs);
    expect(firstPacket + 1536).toBeGreaterThanOrEqual(startAbs); // the next one is segment S's first
    expect(firstPacket + 1536 - startAbs).toBeLessThan(1536);
  });
});

describe('planTiming at 59.94 fps on a 60 kHz timescale', () => {
  it('gives the first frame offset as a whole number of 60 kHz ticks, from rounded 90 kHz PTS', () => {
    const t0 = 1_795_594_053_000; // frames at t0 + n·1001/60000 s; their 90 kHz PTS round x.5 up
    for (const n of [0, 1, 7]) {
      const pts = wrapPts(t0 * 90 + Math.round(n * 1501.5));
      const plan = planTiming({
        firstPts33: pts,
        nowMs: t0,
        segmentDurationMs: D,
        audioSampleRate: 48_000,
        videoGrid: { pts33: pts, frameTicks: 1501.5 },
        videoTimescale: 60_000,
      });
      const startTicks60k = (plan.baseMs + plan.startSeconds * 1000) * 60 - t0 * 60;
      const expected = Math.ceil(startTicks60k / 1001) * 1001 - startTicks60k;
      expect(plan.firstFrameOffsetSeconds * 60_000).toBeCloseTo(expected, 6);
    }
  });
});
