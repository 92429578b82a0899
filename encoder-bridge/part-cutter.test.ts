import { describe, expect, it } from 'vitest';
import { segmentTicks } from '../contract/epoch.ts';
import { readFragments } from '../packager/fragment-reader.ts';
import { isSync, NON_SYNC_SAMPLE_FLAGS, SYNC_SAMPLE_FLAGS } from '../packager/sample.ts';
import { EpochSegmenter, type EpochSegment } from './epoch-segmenter.ts';
import type { EpochPart } from './part-cutter.ts';
import { partOf, partStartTicks, partsPerSegment } from '../contract/part-grid.ts';

const D = 2000;
const DEFAULTS = { trackId: 1, defaultSampleDuration: 0, defaultSampleSize: 0, defaultSampleFlags: 0 };
const samplesOf = (bytes: Uint8Array) => readFragments(bytes, DEFAULTS).flatMap((f) => f.samples);

/**
 * One pipeline's run over a video feed: frame i at `origin + i·frameTicks` (a grid offset from the
 * UTC second), a keyframe at the first frame of each segment (what ffmpeg-args.ts forces), the run
 * joining at frame `join` with ffmpeg's tfdt starting at 0 as in encoder-run.ts.
 */
function run(opts: { origin: number; frameTicks: number; frames: number; join: number; parts: number }) {
  const timescale = 90_000;
  const T = segmentTicks(D, timescale);
  const parts: EpochPart[] = [];
  const segments: EpochSegment[] = [];
  const at = (i: number) => opts.origin + i * opts.frameTicks;
  const firstK = Math.floor(at(opts.join) / T);
  const segmenter = new EpochSegmenter({
    kind: 'video',
    init: { ...DEFAULTS, timescale },
    segmentDurationMs: D,
    // The segment the run started inside is partial: dropped (timing-plan.ts decides this for real).
    firstSegment: firstK + 1,
    onSegment: (s) => segments.push(s),
    parts: { perSegment: opts.parts, onPart: (p) => parts.push(p) },
  });
  segmenter.anchor(at(opts.join));
  for (let i = opts.join; i < opts.frames; i++) {
    const k = Math.floor(at(i) / T);
    const key = i === 0 || Math.floor(at(i - 1) / T) !== k;
    segmenter.pushSamples([
      {
        dts: at(i) - at(opts.join),
        duration: 1,
        flags: key ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS,
        compositionOffset: 0,
        data: new Uint8Array([i & 0xff, (i >> 8) & 0xff]),
      },
    ]);
  }
  segmenter.end();
  return { parts, segments, T };
}

describe('part grid', () => {
  it('0.5 s and 1/3 s parts of a 2 s segment are whole ticks at 90 kHz and 48 kHz', () => {
    expect(partsPerSegment(2000, 500)).toBe(4);
    expect(partsPerSegment(2000, 333)).toBe(6);
    expect(partStartTicks(10, 1, 180_000, 4)).toBe(1_845_000);
    expect(partStartTicks(10, 1, 180_000, 6)).toBe(1_830_000);
    expect(partStartTicks(3, 2, 96_000, 6)).toBe(3 * 96_000 + 32_000);
  });

  it('partOf agrees with partStartTicks at and around every boundary', () => {
    for (const [T, N] of [
      [180_000, 4],
      [180_000, 6],
      [96_000, 6],
      [100_001, 3],
    ]) {
      for (let n = 0; n < N; n++) {
        const start = partStartTicks(7, n, T, N);
        expect(partOf(start, T, N)).toEqual({ k: 7, n });
        expect(partOf(start - 1, T, N)).toEqual(n === 0 ? { k: 6, n: N - 1 } : { k: 7, n: n - 1 });
      }
    }
  });
});

describe('part cutter: parts are a pure function of the feed', () => {
  const origin = 1_764_000_000 * 90_000 + 1_499; // a grid 1,499 ticks off the UTC second
  for (const [name, frameTicks, N] of [
    ['29.97 fps, 0.5 s parts', 3003, 4],
    ['29.97 fps, 1/3 s parts', 3003, 6],
    ['30 fps, 0.5 s parts', 3000, 4],
  ] as const) {
    it(`${name}: every part on the grid, A and B equal part by part, parts make up the segment`, () => {
      const a = run({ origin, frameTicks, frames: 600, join: 0, parts: N });
      // B starts 137 frames later, inside some segment and part.
      const b = run({ origin, frameTicks, frames: 600, join: 137, parts: N });
      const { T } = a;
      expect(a.parts.length).toBeGreaterThan(20);
      for (const p of a.parts) {
        const samples = samplesOf(p.bytes);
        expect(samples.length).toBe(p.sampleCount);
        expect(samples[0].dts).toBe(p.baseMediaDecodeTime);
        for (const s of samples) {
          expect(s.dts).toBeGreaterThanOrEqual(partStartTicks(p.k, p.n, T, N));
          expect(s.dts).toBeLessThan(partStartTicks(p.k, p.n + 1, T, N));
        }
        // The first part of a segment starts with the segment's keyframe; no other part does.
        expect(p.independent).toBe(p.n === 0);
        expect(isSync(samples[0].flags)).toBe(p.n === 0);
      }
      const bParts = new Map(b.parts.map((p) => [`${p.k}.${p.n}`, p]));
      let compared = 0;
      for (const p of a.parts) {
        const other = bParts.get(`${p.k}.${p.n}`);
        if (!other) continue;
        expect(other.bytes).toEqual(p.bytes);
        compared++;
      }
      expect(compared).toBe(b.parts.length);
      expect(compared).toBeGreaterThan(15);
      // Segment K holds exactly the samples of its parts, in order, with the same durations.
      for (const seg of a.segments) {
        const own = a.parts.filter((p) => p.k === seg.k);
        expect(own.map((p) => p.n)).toEqual([...Array(N).keys()]);
        const fromParts = own.flatMap((p) => samplesOf(p.bytes));
        const whole = samplesOf(seg.bytes);
        expect(fromParts.map((s) => [s.dts, s.duration, s.flags])).toEqual(
          whole.map((s) => [s.dts, s.duration, s.flags]),
        );
        expect(own.reduce((sum, p) => sum + p.durationTicks, 0)).toBe(whole.reduce((sum, s) => sum + s.duration, 0));
      }
    });
  }

  it('a run that ends mid-part never publishes the unfinished part', () => {
    const { parts, segments } = run({ origin: 0, frameTicks: 3000, frames: 100, join: 0, parts: 4 });
    // 30 fps, parts of 15 frames; segment 0 is the partial one; frames 90–99 never close their part.
    expect(parts.map((p) => [p.k, p.n, p.sampleCount])).toEqual([
      [1, 0, 15],
      [1, 1, 15],
    ]);
    expect(segments).toEqual([]);
  });
});
