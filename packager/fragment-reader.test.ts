import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../contract/errors.ts';
import { MAX_SAMPLES_PER_SEGMENT } from '../contract/ingest.ts';
import { loadMedia, segmentFor, type Media } from '../test/media.ts';
import { readBoxes } from './bmff/box-reader.ts';
import { box, concat, fullBox, i32, u32, u64 } from './bmff/box-writer.ts';
import { readFragments, type TrackDefaults } from './fragment-reader.ts';
import { inspectSegment } from './inspect.ts';

const D = 2000;
const K = 885_000_123;
const NO_DEFAULTS: TrackDefaults = {
  trackId: 1,
  defaultSampleDuration: 0,
  defaultSampleSize: 0,
  defaultSampleFlags: 0,
};

/** MEDIA_MALFORMED's message from `fn`, and how long it took; anything else thrown fails the test. */
function malformed(fn: () => unknown): { message: string } {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    expect(err.code).toBe('MEDIA_MALFORMED');
    return { message: err.message };
  }
  throw new Error('expected MEDIA_MALFORMED, nothing was thrown');
}

/** moof(mfhd, traf(tfhd, tfdt v1, ...truns)) + mdat(data): the layout offsets below refer to. */
function fragment(o: { tfhd?: Uint8Array; tfdt?: Uint8Array; truns: Uint8Array[]; data?: Uint8Array }): Uint8Array {
  const moof = box(
    'moof',
    fullBox('mfhd', 0, 0, u32(1)),
    box('traf', o.tfhd ?? fullBox('tfhd', 0, 0x020000, u32(1)), o.tfdt ?? fullBox('tfdt', 1, 0, u64(0)), ...o.truns),
  );
  return concat([moof, box('mdat', o.data ?? new Uint8Array(0))]);
}

/** moof at 0, mfhd at 8, traf at 24, tfhd at 32, tfdt at 48, the first trun at 68. */
const TRUN_AT = 68;

describe('readFragments: hostile fragments are MEDIA_MALFORMED', () => {
  it('the 92-byte trun bomb: 2^32-1 samples with no per-sample fields', () => {
    const bomb = fragment({ truns: [fullBox('trun', 0, 0, u32(0xffffffff))] });
    expect(bomb.byteLength).toBe(92);
    // It used to loop until the isolate died: now refused outright (a hang fails on the test's timeout).
    const { message } = malformed(() => readFragments(bomb, NO_DEFAULTS));
    expect(message).toBe(
      `trun at offset ${TRUN_AT}: sample_count 4294967295 takes the segment past ${MAX_SAMPLES_PER_SEGMENT} samples (MAX_SAMPLES_PER_SEGMENT)`,
    );
    // What the origin runs on every PUT: the segment is refused (400), not stored with a defect.
    const info = { ...NO_DEFAULTS, kind: 'video', timescale: 90_000, codecs: 'avc1', sampleEntry: 'avc1' } as const;
    expect(inspectSegment(bomb, info, K, D)).toMatchObject({ defects: ['truncated'], malformed: message });
  });

  it('the cap counts every trun of the segment, and holds exactly MAX_SAMPLES_PER_SEGMENT', () => {
    const run = (n: number) => fullBox('trun', 0, 0, u32(n));
    const full = readFragments(fragment({ truns: [run(MAX_SAMPLES_PER_SEGMENT)] }), NO_DEFAULTS);
    expect(full[0].samples).toHaveLength(MAX_SAMPLES_PER_SEGMENT);
    const half = MAX_SAMPLES_PER_SEGMENT / 2 + 1;
    const { message } = malformed(() => readFragments(fragment({ truns: [run(half), run(half)] }), NO_DEFAULTS));
    expect(message).toMatch(new RegExp(`^trun at offset ${TRUN_AT + 16}: sample_count ${half} takes the segment past`));
  });

  it('per-sample fields: the count is bounded by the bytes left in the trun', () => {
    // duration + size per sample (8 bytes), 1,000,000 declared, two present.
    const trun = fullBox('trun', 0, 0x300, u32(1_000_000), u32(1), u32(0), u32(1), u32(0));
    expect(malformed(() => readFragments(fragment({ truns: [trun] }), NO_DEFAULTS)).message).toMatch(
      /^trun at offset 68: sample_count 1000000 takes the segment past/,
    );
    const few = fullBox('trun', 0, 0x300, u32(3), u32(1), u32(0), u32(1), u32(0));
    expect(malformed(() => readFragments(fragment({ truns: [few] }), NO_DEFAULTS)).message).toBe(
      'trun at offset 68: 3 samples of 8 bytes each needs 24 bytes at offset 84 but the box ends at 100 (16 left)',
    );
  });

  it('sizes from defaults: the count is bounded by the bytes that remain in the body', () => {
    const tfhd = fullBox('tfhd', 0, 0x020010, u32(1), u32(1000)); // default_sample_size 1000
    const bytes = fragment({ tfhd, truns: [fullBox('trun', 0, 0x001, u32(5000), i32(96))], data: new Uint8Array(50) });
    expect(malformed(() => readFragments(bytes, NO_DEFAULTS)).message).toMatch(
      /^trun at offset 72: 5000 samples of 1000 bytes from offset \d+ run past the end of the body \(truncated mdat\?\)$/,
    );
  });

  it('sample data must lie inside an mdat: not before the body, not in the moof, not past the mdat', () => {
    for (const [offset, why] of [
      [-200, 'before the body'],
      [0, 'in the moof'],
      [40, 'in the moof'],
    ] as const) {
      const trun = fullBox('trun', 0, 0x201, u32(1), i32(offset), u32(4));
      const { message } = malformed(() => readFragments(fragment({ truns: [trun] }), NO_DEFAULTS));
      expect(message, why).toBe(`trun at offset 68: sample 0 (4 bytes at offset ${offset}) is not inside an mdat`);
    }
    const past = fullBox('trun', 0, 0x201, u32(2), i32(104), u32(4), u32(4)); // the moof is 96 bytes
    expect(
      malformed(() => readFragments(fragment({ truns: [past], data: new Uint8Array(6) }), NO_DEFAULTS)).message,
    ).toBe('trun at offset 68: sample 1 (4 bytes at offset 108) is not inside an mdat (truncated mdat?)');
  });

  it('fields past the end of tfhd, tfdt, trun and mfhd are named, never read from the next box', () => {
    // base_data_offset (flag 0x01) announced, not there: the next bytes are tfdt's.
    const tfhd = fullBox('tfhd', 0, 0x000001, u32(1));
    expect(malformed(() => readFragments(fragment({ tfhd, truns: [] }))).message).toBe(
      'tfhd at offset 32: base_data_offset needs 8 bytes at offset 48 but the box ends at 48 (0 left)',
    );
    const tfdt = fullBox('tfdt', 1, 0, u32(7)); // version 1 needs 8 bytes of time
    expect(malformed(() => readFragments(fragment({ tfdt, truns: [] }))).message).toBe(
      'tfdt at offset 48: baseMediaDecodeTime needs 8 bytes at offset 60 but the box ends at 64 (4 left)',
    );
    const trun = fullBox('trun', 0, 0x005, u32(1), i32(0)); // data_offset, then first_sample_flags missing
    expect(malformed(() => readFragments(fragment({ truns: [trun] }))).message).toBe(
      'trun at offset 68: first_sample_flags needs 4 bytes at offset 88 but the box ends at 88 (0 left)',
    );
    const shortMfhd = concat([box('moof', box('mfhd'), box('traf')), box('mdat')]);
    expect(malformed(() => readFragments(shortMfhd)).message).toMatch(/^mfhd at offset 8: version and flags needs 4/);
  });

  it('a moof needs mfhd and exactly one traf; a traf needs tfhd and tfdt', () => {
    const traf = box('traf', fullBox('tfhd', 0, 0x020000, u32(1)), fullBox('tfdt', 1, 0, u64(0)));
    const mfhd = fullBox('mfhd', 0, 0, u32(1));
    expect(malformed(() => readFragments(box('moof', traf))).message).toBe('moof at offset 0: lacks mfhd');
    expect(malformed(() => readFragments(box('moof', mfhd, traf, traf))).message).toBe(
      'moof at offset 0: a CMAF fragment carries exactly one track (found 2 traf)',
    );
    expect(malformed(() => readFragments(box('moof', mfhd, box('traf', fullBox('tfdt', 1, 0, u64(0)))))).message).toBe(
      'traf at offset 24: lacks tfhd',
    );
  });

  it('a trun without data_offset continues after the previous run (ISO/IEC 14496-12 §8.8.8)', () => {
    const data = Uint8Array.of(1, 2, 3, 4, 5, 6);
    // The moof is 116 bytes: the data start at 124.
    const truns = [
      fullBox('trun', 0, 0x201, u32(1), i32(124), u32(2)),
      fullBox('trun', 0, 0x200, u32(2), u32(1), u32(3)),
    ];
    const [f] = readFragments(fragment({ truns, data }), NO_DEFAULTS);
    expect(f.samples.map((s) => [...s.data])).toEqual([[1, 2], [3], [4, 5, 6]]);
  });
});

describe('readFragments on real segments cut and corrupted: MEDIA_MALFORMED or a parse, nothing else', () => {
  let video: Media;
  let audio: Media;
  beforeAll(async () => {
    [video, audio] = await Promise.all([loadMedia({ kind: 'video' }), loadMedia({ kind: 'audio' })]);
  });

  it('every truncation', () => {
    for (const media of [video, audio]) {
      const segment = segmentFor(media, K, D);
      const moofEnd = readBoxes(segment).find((b) => b.type === 'moof')!.end;
      // Every cut inside the boxes, then every 97th byte of the samples.
      for (let n = 0; n < segment.byteLength; n += n < moofEnd + 16 ? 1 : 97) {
        const cut = segment.subarray(0, n);
        try {
          readFragments(cut, media.info);
        } catch (err) {
          if (!(err instanceof AppError)) throw new Error(`cut at ${n}: ${err}`);
        }
        expect(inspectSegment(cut, media.info, K, D).sampleCount).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('every byte of the moof set to 0x00, 0x80 and 0xff', () => {
    for (const media of [video, audio]) {
      const segment = segmentFor(media, K, D);
      const moofEnd = readBoxes(segment).find((b) => b.type === 'moof')!.end;
      for (let at = 0; at < moofEnd; at++) {
        for (const value of [0x00, 0x80, 0xff]) {
          const bad = segment.slice();
          bad[at] = value;
          try {
            readFragments(bad, media.info);
          } catch (err) {
            if (!(err instanceof AppError)) throw new Error(`byte ${at} = ${value}: ${err}`);
          }
        }
      }
    }
  });
});
