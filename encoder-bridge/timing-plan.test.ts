import { describe, expect, it } from 'vitest';
import { PTS_WRAP, segmentTicks, wrapPts } from '../contract/epoch.ts';
import { readFragments } from '../packager/fragment-reader.ts';
import { isSync, NON_SYNC_SAMPLE_FLAGS, SYNC_SAMPLE_FLAGS } from '../packager/sample.ts';
import { EpochSegmenter } from './epoch-segmenter.ts';
import {
  AAC_FRAME_SAMPLES,
  atFirstFrame,
  audioTrimSamples,
  firstFrameAtOrAfterStart,
  isSegmentStart,
  keyframeAtOrBefore,
  keyframeExpression,
  mediaTicks,
  planTiming,
} from './timing-plan.ts';

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

/**
 * A tiny evaluator for the ffmpeg expressions keyframeExpression writes (numbers, t,
 * prev_forced_t, + − * /, if, isnan, gt, gte, floor, round), so the string itself is tested here
 * with ffmpeg's semantics: NAN before the first forced keyframe, C round() (half away from zero).
 */
const tokenCache = new Map<string, string[]>();
function evalFfmpegExpr(expr: string, vars: Record<string, number>): number {
  let tokens = tokenCache.get(expr);
  if (!tokens) tokenCache.set(expr, (tokens = expr.match(/\d+(?:\.\d+)?(?:e[+-]?\d+)?|[a-z_]+|[-+*/(),]/g)!));
  let i = 0;
  const peek = () => tokens[i];
  const take = (t?: string) => {
    const got = tokens[i++];
    if (t !== undefined && got !== t) throw new Error(`expected ${t}, got ${got}`);
    return got;
  };
  const fns: Record<string, (...a: number[]) => number> = {
    if: (c, a, b) => (c !== 0 ? a : b),
    isnan: (x) => (Number.isNaN(x) ? 1 : 0),
    gt: (a, b) => (a > b ? 1 : 0),
    gte: (a, b) => (a >= b ? 1 : 0),
    floor: Math.floor,
    round: (x) => Math.sign(x) * Math.round(Math.abs(x)),
  };
  const factor = (): number => {
    const t = take();
    if (t === '(') {
      const v = sum();
      take(')');
      return v;
    }
    if (t === '-') return -factor();
    if (/^\d/.test(t)) return Number(t);
    if (peek() === '(') {
      take('(');
      const args = [sum()];
      while (peek() === ',') {
        take(',');
        args.push(sum());
      }
      take(')');
      return fns[t](...args);
    }
    if (!(t in vars)) throw new Error(`unknown name ${t}`);
    return vars[t];
  };
  const product = (): number => {
    let v = factor();
    while (peek() === '*' || peek() === '/') v = take() === '*' ? v * factor() : v / factor();
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (peek() === '+' || peek() === '-') v = take() === '+' ? v + product() : v - product();
    return v;
  };
  const v = sum();
  if (i !== tokens.length) throw new Error(`trailing ${tokens.slice(i).join('')}`);
  return v;
}

/**
 * A contribution feed's video PTS (unwrapped, 90 kHz): a frame grid `offset` ticks after the
 * UTC second T0, at `fps`, each frame time rounded to the 90 kHz clock as ffmpeg's muxer rounds
 * it (half away from zero: 59.94 gives 1501/1502 steps). `drift` slows the clock like the
 * `--cc608 on` source, whose stream copy of raw H.264 counts frames in whole microseconds
 * (33,333 µs at 30 fps): one tick lost about every 1.1 s.
 */
function feedPts(fps: string, offset: number, frames: number, drift = false): number[] {
  const [num, den = '1'] = fps.split('/').map(Number) as [number, number?];
  const t0 = 1_795_594_053_000 * 90;
  return Array.from({ length: frames }, (_, n) => {
    const exact = drift
      ? Math.round(n * Math.floor((1e6 * Number(den)) / num)) * 0.09
      : (n * 90_000 * Number(den)) / num;
    return t0 + offset + Math.round(exact);
  });
}

interface SimSegment {
  k: number;
  tfdt: number;
  durations: number[];
  sync: number[];
}

/**
 * One bridge run joining the feed at frame `join`, as the Pipeline does it (plan from the first
 * held PTS and 8 frames of grid, then the first frame at or after S read from the feed), with
 * ffmpeg modelled on what was measured from ffmpeg 5.1: `t` of -force_key_frames counts from the
 * first encoded frame in the 90 kHz encoder time base (the expression string is evaluated), the
 * mp4 muxer rescales each frame's 90 kHz time to the track timescale (half away from zero) and
 * starts the track at 0. Samples go through the real EpochSegmenter with the encoder run's anchor.
 */
function simulateRun(pts: number[], join: number, timescale: number, frameTicks: number): SimSegment[] {
  const nowMs = Math.round(pts[join] / 90) + 500;
  const plan0 = planTiming({
    firstPts33: wrapPts(pts[join]),
    nowMs,
    segmentDurationMs: D,
    audioSampleRate: 48_000,
    videoGrid: { pts33: wrapPts(pts[join]), frameTicks },
  });
  const base90 = plan0.baseMs * 90;
  // The feed held until the first frame at or after S: undefined one frame earlier.
  const end = pts.findIndex((p, n) => n >= join && p - base90 >= plan0.videoTrimPts) + 1;
  const held = pts.slice(join, end).map((p) => ({ pts: wrapPts(p) }));
  expect(firstFrameAtOrAfterStart(plan0, held.slice(0, -1), nowMs)).toBeUndefined();
  const first = firstFrameAtOrAfterStart(plan0, held, nowMs)!;
  const plan = atFirstFrame(plan0, first);
  const expr = keyframeExpression(plan, timescale, D);
  const out: SimSegment[] = [];
  const segmenter = new EpochSegmenter({
    kind: 'video',
    init: { trackId: 1, defaultSampleDuration: 0, defaultSampleSize: 0, defaultSampleFlags: 0, timescale },
    segmentDurationMs: D,
    firstSegment: plan.firstSegment,
    onSegment: (seg) => {
      const frags = readFragments(seg.bytes, {
        trackId: 1,
        defaultSampleDuration: 0,
        defaultSampleSize: 0,
        defaultSampleFlags: 0,
      });
      const samples = frags.flatMap((f) => f.samples);
      out.push({
        k: seg.k,
        tfdt: seg.baseMediaDecodeTime,
        durations: samples.map((s) => s.duration),
        sync: samples.flatMap((s, i) => (isSync(s.flags) ? [i] : [])),
      });
    },
  });
  const baseTicks = (plan.baseMs / D) * segmentTicks(D, timescale);
  segmenter.anchor(baseTicks + mediaTicks(plan.firstFrameT90, timescale));
  let prevForced = Number.NaN;
  for (const p of pts.slice(join)) {
    const t90 = p - base90;
    if (t90 < plan.videoTrimPts) continue; // trim start_pts=S
    const t = (t90 - plan.firstFrameT90) * (1 / 90_000); // ffmpeg: pts · av_q2d(time_base)
    const key = evalFfmpegExpr(expr, { t, prev_forced_t: prevForced }) !== 0;
    if (key) prevForced = t;
    segmenter.pushSamples([
      {
        dts: mediaTicks(t90, timescale) - mediaTicks(plan.firstFrameT90, timescale),
        duration: 1, // ffmpeg's own idea of the duration; the segmenter replaces it
        flags: key ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS,
        compositionOffset: 0,
        data: new Uint8Array([0]),
      },
    ]);
  }
  segmenter.end();
  return out;
}

describe('segment timing is a pure function of the feed, whatever moment a run starts', () => {
  const RATES: [fps: string, timescale: number, frameTicks: number][] = [
    ['30', 90_000, 3000],
    ['30000/1001', 90_000, 3003],
    ['60000/1001', 60_000, 1501.5],
    // 23.976 on 24 kHz: a 90 kHz tick before a boundary can round onto it; keyframes follow the track timescale
    ['24000/1001', 24_000, 3753.75],
  ];
  const cases = RATES.flatMap(([fps, ts, f]) =>
    [0, 1, 2, 1499, 2999].flatMap((offset) => [false, true].map((drift) => ({ fps, ts, f, offset, drift }))),
  );

  it.each(cases)('$fps fps, grid $offset ticks after the second, drifting $drift', ({ fps, ts, f, offset, drift }) => {
    const fpsValue = 90_000 / f;
    const pts = feedPts(fps, offset, Math.round(fpsValue * 24), drift);
    // A joins at the first frame; B at 6 moments spread over 14 s (two of them one frame apart).
    let seed = offset * 7 + (drift ? 1 : 0) + ts;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const joins = [1, 2, ...Array.from({ length: 4 }, () => Math.floor(random() * fpsValue * 14))];
    const a = simulateRun(pts, 0, ts, f);
    expect(a.length).toBeGreaterThanOrEqual(9);
    const perSegment = segmentTicks(D, ts);
    const frame = Math.ceil((f * ts) / 90_000) + 1;
    for (const s of a) {
      // every segment starts on a keyframe and has no other; tfdt within one frame after K·D
      expect(s.sync, `A ${s.k}`).toEqual([0]);
      expect(s.tfdt - s.k * perSegment).toBeGreaterThanOrEqual(0);
      expect(s.tfdt - s.k * perSegment).toBeLessThan(frame);
      // sample times are the frames' own PTS in the track timescale
      const firstPts = pts.find((p) => mediaTicks(p, ts) >= s.k * perSegment);
      expect(s.tfdt).toBe(mediaTicks(firstPts!, ts));
    }
    for (const join of joins) {
      const b = simulateRun(pts, join, ts, f);
      expect(b.length).toBeGreaterThan(3);
      for (const s of b) {
        const same = a.find((x) => x.k === s.k);
        expect(same, `A has ${s.k}`).toBeDefined();
        expect(s, `B joined at frame ${join}: segment ${s.k}`).toEqual(same);
      }
    }
  });

  it('the keyframe expression and isSegmentStart agree, at 24000 too (a 90 kHz tick rounds onto a 24 kHz boundary)', () => {
    const plan = atFirstFrame(
      planTiming({
        firstPts33: wrapPts(1_795_594_053_000 * 90),
        nowMs: 1_795_594_053_000,
        segmentDurationMs: D,
        audioSampleRate: 48_000,
      }),
      180_001,
    );
    for (const ts of [90_000, 60_000, 24_000]) {
      const expr = keyframeExpression(plan, ts, D);
      // every 90 kHz tick within 300 of the next two boundaries, and coarse steps between
      const near = [360_000, 540_000].flatMap((b) => Array.from({ length: 601 }, (_, i) => b - 300 + i));
      const coarse = Array.from({ length: 400 }, (_, i) => 180_002 + i * 997);
      const mismatches: string[] = [];
      for (const prev of [180_001, 360_010]) {
        for (const t90 of [...near, ...coarse]) {
          if (t90 <= prev) continue;
          const t = (t90 - plan.firstFrameT90) * (1 / 90_000);
          const p = (prev - plan.firstFrameT90) * (1 / 90_000);
          if ((evalFfmpegExpr(expr, { t, prev_forced_t: p }) !== 0) !== isSegmentStart(t90, prev, ts, D))
            mismatches.push(`${ts}: ${t90} after ${prev}`);
        }
      }
      expect(mismatches).toEqual([]);
      expect(evalFfmpegExpr(expr, { t: 0, prev_forced_t: Number.NaN })).toBe(1);
    }
    // 359_999 at 90 kHz is 95_999.73 at 24 kHz: rounds onto the boundary 96_000, so it starts the segment
    expect(isSegmentStart(359_999, 180_001, 24_000, D)).toBe(true);
    expect(isSegmentStart(359_999, 180_001, 90_000, D)).toBe(false);
  });
});

describe('firstFrameAtOrAfterStart', () => {
  const t0 = 1_795_594_053_000;
  const plan = planTiming({ firstPts33: wrapPts(t0 * 90), nowMs: t0, segmentDurationMs: D, audioSampleRate: 48_000 });
  const start = plan.baseMs * 90 + plan.videoTrimPts;

  it('waits until a frame at or after S is in the feed, then gives its exact t', () => {
    const frames = [start - 3001, start - 1].map((p) => ({ pts: wrapPts(p) }));
    expect(firstFrameAtOrAfterStart(plan, frames, t0)).toBeUndefined();
    frames.push({ pts: wrapPts(start + 2999) });
    expect(firstFrameAtOrAfterStart(plan, frames, t0)).toBe(plan.videoTrimPts + 2999);
  });

  it('with B-frames, waits for a decode time past the candidate: an earlier picture may still come', () => {
    // decode order I P B: P presents after B
    const frames = [{ pts: wrapPts(start + 6000), dts: wrapPts(start - 3000) }];
    expect(firstFrameAtOrAfterStart(plan, frames, t0)).toBeUndefined();
    frames.push({ pts: wrapPts(start + 3000), dts: wrapPts(start) });
    expect(firstFrameAtOrAfterStart(plan, frames, t0)).toBeUndefined();
    frames.push({ pts: wrapPts(start + 9000), dts: wrapPts(start + 3000) });
    expect(firstFrameAtOrAfterStart(plan, frames, t0)).toBe(plan.videoTrimPts + 3000);
  });
});

describe('keyframeAtOrBefore', () => {
  const t0 = 1_795_594_053_000;
  const plan = planTiming({ firstPts33: wrapPts(t0 * 90), nowMs: t0, segmentDurationMs: D, audioSampleRate: 48_000 });
  const base90 = plan.baseMs * 90;

  it('is true only when the feed marks a random access point at or before the first frame', () => {
    const first = plan.videoTrimPts + 1499;
    const frames = [0, 3000, 6000].map((t) => ({ pts: wrapPts(base90 + plan.videoTrimPts - 45_000 + t) }));
    expect(keyframeAtOrBefore(plan, frames, first, t0)).toBe(false); // none marked: not known to decode
    expect(keyframeAtOrBefore(plan, [...frames, { pts: wrapPts(base90 + first + 3000), key: true }], first, t0)).toBe(
      false,
    );
    expect(keyframeAtOrBefore(plan, [{ ...frames[1], key: true }, ...frames], first, t0)).toBe(true);
    expect(keyframeAtOrBefore(plan, [{ pts: wrapPts(base90 + first), key: true }], first, t0)).toBe(true);
  });
});
