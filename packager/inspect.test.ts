import { beforeAll, describe, expect, it } from 'vitest';
import { encodeMedia, segmentFor, type Media } from '../test/fixtures.ts';
import { inspectSegment } from './inspect.ts';

const D = 2000;
const K = 885_000_123;
let video: Media;
let audio: Media;

beforeAll(async () => {
  [video, audio] = await Promise.all([encodeMedia({ kind: 'video' }), encodeMedia({ kind: 'audio' })]);
});

describe('inspectSegment with ffmpeg media', () => {
  it('finds no defect in a well-formed video segment', () => {
    const r = inspectSegment(segmentFor(video, K, D), video.info, K, D);
    expect(r).toMatchObject({ defects: [], sampleCount: 60, durationTicks: (D * video.info.timescale) / 1000 });
    expect(r.firstDts).toBe((K * D * video.info.timescale) / 1000);
  });

  it('finds no defect in a well-formed audio segment (tfdt within one AAC frame after K·D)', () => {
    for (const k of [K, K + 1]) {
      const r = inspectSegment(segmentFor(audio, k, D), audio.info, k, D);
      expect(r.defects).toEqual([]);
      expect(r.firstDts - (k * D * audio.info.timescale) / 1000).toBeLessThan(1024);
    }
  });

  it('reports truncated with the parser reason', () => {
    const full = segmentFor(video, K, D);
    const r = inspectSegment(full.subarray(0, full.byteLength - 100), video.info, K, D);
    expect(r.defects).toEqual(['truncated']);
    expect(r.malformed).toMatch(/^mdat at offset \d+: declares \d+ bytes but only \d+ remain/);
  });

  it('reports tfdt-mismatch when tfdt is off the grid by a frame or more', () => {
    const sample = video.samples[0].duration;
    expect(inspectSegment(segmentFor(video, K, D, { tfdtShift: sample }), video.info, K, D).defects).toEqual([
      'tfdt-mismatch',
    ]);
    expect(inspectSegment(segmentFor(video, K, D, { tfdtShift: -1 }), video.info, K, D).defects).toEqual([
      'tfdt-mismatch',
    ]);
    // Segment K+1 published under the number K is also a discontinuity.
    expect(inspectSegment(segmentFor(video, K + 1, D), video.info, K, D).defects).toEqual(['tfdt-mismatch']);
  });

  it('reports short when samples cover less than D minus one sample', () => {
    expect(inspectSegment(segmentFor(video, K, D, { keepSamples: 59 }), video.info, K, D).defects).toEqual([]);
    expect(inspectSegment(segmentFor(video, K, D, { keepSamples: 40 }), video.info, K, D).defects).toEqual(['short']);
  });

  it('reports no-sync-start for video that does not begin with a keyframe', () => {
    // Dropping leading frames keeps the tfdt honest (shifted by the dropped time) — so the defect
    // list is the missing keyframe plus the tfdt and length that follow from it.
    const r = inspectSegment(segmentFor(video, K, D, { dropSamples: 1 }), video.info, K, D);
    expect(r.defects).toContain('no-sync-start');
    const unshifted = segmentFor(video, K, D, { dropSamples: 1, tfdtShift: -video.samples[0].duration });
    expect(inspectSegment(unshifted, video.info, K, D).defects).toEqual(['no-sync-start']);
  });

  it('reports empty and size-mismatch', () => {
    expect(inspectSegment(segmentFor(video, K, D, { keepSamples: 0 }), video.info, K, D).defects).toEqual(['empty']);
    const padded = segmentFor(video, K, D);
    const bytes = new Uint8Array(padded.byteLength + 16);
    bytes.set(padded);
    // Grow the mdat (last box) by 16 bytes the trun does not account for.
    const dv = new DataView(bytes.buffer);
    let offset = 0;
    while (offset < padded.byteLength) {
      const size = dv.getUint32(offset);
      if (offset + size === padded.byteLength) dv.setUint32(offset, size + 16);
      offset += size;
    }
    expect(inspectSegment(bytes, video.info, K, D).defects).toEqual(['size-mismatch']);
  });
});
