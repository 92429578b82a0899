/**
 * The checked-in HEVC, E-AC-3, 29.97 and 59.94 fps encodes (testdata/media/, npm run testdata)
 * through the packager: what readInitInfo reads from each header, and what inspectSegment finds in
 * segments re-cut onto the epoch grid the way the bridge cuts them (test/media.ts segmentFor).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMedia, type Media, segmentFor } from '../test/media.ts';
import { readFragments } from './fragment-reader.ts';
import { inspectSegment } from './inspect.ts';
import { isSync } from './sample.ts';

const D = 2000;
/** 2025-11-25T08:00:00Z on the 2 s grid. */
const K = Date.UTC(2025, 10, 25, 8) / D;

let hevc: Media;
let eac3: Media;
let ntsc: Media;
let ntsc60: Media;
beforeAll(async () => {
  [hevc, eac3, ntsc, ntsc60] = await Promise.all([
    loadMedia({ kind: 'video', codec: 'hevc', bitrateKbps: 100 }),
    loadMedia({ kind: 'audio', codec: 'eac3', channels: 6 }),
    loadMedia({ kind: 'video', fps: '30000/1001', bitrateKbps: 100 }),
    loadMedia({ kind: 'video', fps: '60000/1001', bitrateKbps: 100 }),
  ]);
});

/** Segments K and K+1 of `media`, each inspected as the origin inspects an ingested one. */
function inspectTwo(media: Media) {
  return [K, K + 1].map((k) => {
    const bytes = segmentFor(media, k, D);
    return {
      k,
      bytes,
      inspection: inspectSegment(bytes, media.info, k, D),
      fragments: readFragments(bytes, media.info),
    };
  });
}

describe('readInitInfo on the testdata headers', () => {
  it('HEVC (libx265, hvc1): the ISO/IEC 14496-15 Annex E codecs string from hvcC', () => {
    expect(hevc.info).toMatchObject({
      kind: 'video',
      sampleEntry: 'hvc1',
      // Main profile (1), compatibility flags 0x6 (Main, Main 10), Main tier level 2 (L60), constraint byte 0x90.
      codecs: 'hvc1.1.6.L60.90',
      width: 320,
      height: 180,
    });
  });

  it('E-AC-3 5.1: codecs ec-3, six channels read from dec3 (the sample entry says 2)', () => {
    expect(eac3.info).toMatchObject({
      kind: 'audio',
      sampleEntry: 'ec-3',
      codecs: 'ec-3',
      channels: 6,
      sampleRate: 48000,
    });
    expect(eac3.info.timescale).toBe(48000);
  });

  it('29.97 fps AVC on 90 kHz and 59.94 fps AVC on 60 kHz (the bridge timescales)', () => {
    expect(ntsc.info).toMatchObject({
      kind: 'video',
      codecs: 'avc1.42c00d',
      timescale: 90_000,
      width: 320,
      height: 180,
    });
    expect(ntsc60.info).toMatchObject({
      kind: 'video',
      codecs: 'avc1.42c015',
      timescale: 60_000,
      width: 320,
      height: 180,
    });
  });
});

describe('sample durations at 29.97 and 59.94 fps', () => {
  it('every 29.97 frame is 3003 ticks of 90 kHz and every 59.94 frame 1001 ticks of 60 kHz: the rate is exact', () => {
    expect(new Set(ntsc.samples.map((s) => s.duration))).toEqual(new Set([3003]));
    expect(new Set(ntsc60.samples.map((s) => s.duration))).toEqual(new Set([1001]));
    // timescale / duration = 30000/1001 and 60000/1001 exactly, what a manifest's frame rate says.
    expect((ntsc.info.timescale * 1001) / 3003).toBe(30000);
    expect((ntsc60.info.timescale * 1001) / 1001).toBe(60000);
  });

  it('a 2 s segment is not a whole number of frames: tfdt lands within one frame after K·D', () => {
    for (const [media, frame, frames] of [
      [ntsc, 3003, 60],
      [ntsc60, 1001, 120],
    ] as const) {
      const ts = media.info.timescale;
      for (const { k, inspection, fragments } of inspectTwo(media)) {
        expect(inspection.defects).toEqual([]);
        expect(inspection.sampleCount).toBe(frames);
        expect(inspection.durationTicks).toBe(frames * frame);
        const offset = inspection.firstDts - (k * D * ts) / 1000;
        expect(offset).toBeGreaterThanOrEqual(0);
        expect(offset).toBeLessThan(frame);
        expect(fragments[0].samples.every((s) => s.duration === frame)).toBe(true);
        expect(isSync(fragments[0].samples[0].flags)).toBe(true);
      }
    }
    // 60 frames of 29.97 run 2.002 s, so the second segment starts 180 ticks (2 ms) after its boundary.
    expect(inspectTwo(ntsc).map(({ k, inspection }) => inspection.firstDts - k * 180_000)).toEqual([0, 180]);
    expect(inspectTwo(ntsc60).map(({ k, inspection }) => inspection.firstDts - k * 120_000)).toEqual([0, 120]);
  });
});

describe('HEVC and E-AC-3 segments on the epoch grid', () => {
  it('HEVC: each segment starts on an IDR picture, holds 2 s and has no parameter sets in its samples', () => {
    for (const { k, inspection, fragments } of inspectTwo(hevc)) {
      expect(inspection).toMatchObject({
        defects: [],
        sampleCount: 60,
        firstDts: (k * D * hevc.info.timescale) / 1000,
      });
      const nalTypes = (data: Uint8Array) => {
        const types: number[] = [];
        for (let p = 0; p + 5 <= data.byteLength; p += 4 + new DataView(data.buffer, data.byteOffset + p).getUint32(0))
          types.push((data[p + 4] >> 1) & 0x3f);
        return types;
      };
      const samples = fragments[0].samples;
      // IDR_W_RADL (19) or IDR_N_LP (20) first; VPS/SPS/PPS (32-34) live in hvcC only (repeat-headers=0).
      expect([19, 20]).toContain(nalTypes(samples[0].data)[0]);
      expect(samples.flatMap((s) => nalTypes(s.data)).filter((t) => t >= 32 && t <= 34)).toEqual([]);
    }
  });

  it('E-AC-3: 1536-sample frames, 63 then 62 per segment, the first at or after K·D', () => {
    const segments = inspectTwo(eac3);
    expect(segments.map(({ inspection }) => inspection.sampleCount)).toEqual([63, 62]);
    for (const { k, inspection, fragments } of segments) {
      expect(inspection.defects).toEqual([]);
      expect(fragments[0].samples.every((s) => s.duration === 1536)).toBe(true);
      const offset = inspection.firstDts - (k * D * eac3.info.timescale) / 1000;
      expect(offset).toBeGreaterThanOrEqual(0);
      expect(offset).toBeLessThan(1536);
    }
  });
});
