import { describe, expect, it } from 'vitest';
import { concat, u32 } from '../bmff/box-writer.ts';
import { SLICE_HEADER_CLEAR, videoSubsamples } from './subsamples.ts';

const nal = (header: number, size: number) =>
  concat([u32(size), Uint8Array.of(header), new Uint8Array(size - 1).fill(0xaa)]);
const avc = { codec: 'avc', lengthSize: 4 } as const;

describe('videoSubsamples (AVC)', () => {
  it('leaves AUD/SPS/PPS/SEI clear and protects whole blocks of slice data after the slice-header allowance', () => {
    const sample = concat([nal(0x09, 2), nal(0x67, 20), nal(0x68, 5), nal(0x06, 30), nal(0x65, 1000)]);
    const subs = videoSubsamples(sample, avc);
    expect(subs).toHaveLength(1);
    const [s] = subs;
    expect(s.protected % 16).toBe(0);
    expect(s.clear + s.protected).toBe(sample.byteLength);
    // Clear: every non-VCL NAL, the IDR's length + header + allowance, and < 16 alignment bytes.
    const nonVcl = 6 + 24 + 9 + 34;
    expect(s.clear - nonVcl - 4 - 1 - SLICE_HEADER_CLEAR).toBeGreaterThanOrEqual(0);
    expect(s.clear - nonVcl - 4 - 1 - SLICE_HEADER_CLEAR).toBeLessThan(16);
  });

  it('gives each slice its own subsample, and leaves tiny slices entirely clear', () => {
    const sample = concat([nal(0x41, 500), nal(0x41, 20), nal(0x41, 300)]);
    const subs = videoSubsamples(sample, avc);
    expect(subs.map((s) => s.protected > 0)).toEqual([true, true]);
    expect(subs.reduce((n, s) => n + s.clear + s.protected, 0)).toBe(sample.byteLength);
  });

  it('with a key-stream phase, starts every protected run on a stream block boundary and leaves the partial tail clear', () => {
    const sample = concat([nal(0x09, 2), nal(0x65, 1000), nal(0x41, 333), nal(0x41, 20)]);
    for (const phase of [0, 5, 15]) {
      const subs = videoSubsamples(sample, avc, phase);
      expect(subs.filter((s) => s.protected > 0)).toHaveLength(2);
      let p = 0;
      const nalEnds = [6, 1010, 1347, 1371];
      for (const s of subs) {
        p += s.clear;
        if (s.protected === 0) continue;
        expect((phase + p) % 16).toBe(0);
        expect(s.protected % 16).toBe(0);
        // The run ends within 16 bytes of its NAL's end.
        const end = nalEnds.find((e) => e >= p + s.protected)!;
        expect(end - (p + s.protected)).toBeLessThan(16);
        p += s.protected;
      }
      expect(subs.reduce((n, s) => n + s.clear + s.protected, 0)).toBe(sample.byteLength);
    }
  });

  it('splits clear runs longer than 16 bits', () => {
    const sample = concat([nal(0x06, 70_000), nal(0x65, 100)]);
    const subs = videoSubsamples(sample, avc);
    expect(subs[0]).toEqual({ clear: 0xffff, protected: 0 });
    expect(subs.every((s) => s.clear <= 0xffff)).toBe(true);
    expect(subs.reduce((n, s) => n + s.clear + s.protected, 0)).toBe(sample.byteLength);
  });

  it('rejects a NAL length that runs past the sample', () => {
    const sample = nal(0x65, 100).subarray(0, 50);
    expect(() => videoSubsamples(sample, avc)).toThrow(/NAL unit at byte 0 declares 100 bytes/);
  });

  it('reads HEVC NAL types from the 2-byte header (VPS/SPS/PPS clear, TRAIL/IDR protected)', () => {
    const hevcNal = (type: number, size: number) =>
      concat([u32(size), Uint8Array.of(type << 1, 1), new Uint8Array(size - 2)]);
    const sample = concat([hevcNal(32, 20), hevcNal(33, 40), hevcNal(34, 8), hevcNal(19, 400)]);
    const subs = videoSubsamples(sample, { codec: 'hevc', lengthSize: 4 });
    expect(subs).toHaveLength(1);
    expect(subs[0].clear).toBeGreaterThanOrEqual(24 + 44 + 12 + 4 + 2 + SLICE_HEADER_CLEAR);
  });
});
