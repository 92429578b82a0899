import { describe, expect, it } from 'vitest';
import { box, concat, fullBox, i32, str, u32, u64 } from './bmff/box-writer.ts';
import { readFragments } from './fragment-reader.ts';
import { NON_SYNC_SAMPLE_FLAGS, type Sample, SYNC_SAMPLE_FLAGS } from './sample.ts';
import { type SegmentInput, writeSegment } from './segment-writer.ts';

/** The project's fixed segment layout spelled out box by box: what writeSegment must produce, byte for byte. */
function layout(input: SegmentInput): Uint8Array {
  const signed = input.samples.some((s) => s.compositionOffset < 0);
  const moof = (dataOffset: number) =>
    box(
      'moof',
      fullBox('mfhd', 0, 0, u32(input.sequenceNumber % 2 ** 32)),
      box(
        'traf',
        fullBox('tfhd', 0, 0x020000, u32(input.trackId)),
        fullBox('tfdt', 1, 0, u64(input.baseMediaDecodeTime)),
        fullBox(
          'trun',
          signed ? 1 : 0,
          0xf01,
          u32(input.samples.length),
          i32(dataOffset),
          ...input.samples.flatMap((s) => [
            u32(s.duration),
            u32(s.data.byteLength),
            u32(s.flags),
            signed ? i32(s.compositionOffset) : u32(s.compositionOffset),
          ]),
        ),
      ),
    );
  const size = moof(0).byteLength;
  return concat([
    box('styp', str('cmfs'), u32(0), str('cmfs'), str('msdh')),
    moof(size + 8),
    box('mdat', ...input.samples.map((s) => s.data)),
  ]);
}

function samples(n: number, seed: number, negativeCto: boolean): Sample[] {
  let x = seed;
  const rand = (m: number) => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x % m;
  };
  return Array.from({ length: n }, (_, i) => ({
    dts: i * 3000,
    duration: 3000 + rand(3),
    flags: i === 0 ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS,
    compositionOffset: negativeCto ? rand(9000) - 3000 : rand(9000),
    data: Uint8Array.from({ length: rand(5) === 0 ? 0 : 1 + rand(3000) }, () => rand(256)),
  }));
}

describe('writeSegment', () => {
  const cases: [string, SegmentInput][] = [
    [
      'video, 60 samples',
      {
        sequenceNumber: 898_106_458,
        trackId: 1,
        baseMediaDecodeTime: 1_796_214_411 * 90_000,
        samples: samples(60, 1, false),
      },
    ],
    [
      'negative composition offsets (trun v1)',
      { sequenceNumber: 7, trackId: 2, baseMediaDecodeTime: 0, samples: samples(25, 2, true) },
    ],
    [
      'one sample, K past 2^32 (mod 2^32)',
      {
        sequenceNumber: 2 ** 32 + 5,
        trackId: 3,
        baseMediaDecodeTime: 2 ** 52,
        samples: samples(1, 3, false),
      },
    ],
    ['no samples', { sequenceNumber: 1, trackId: 1, baseMediaDecodeTime: 48_000, samples: [] }],
  ];
  it.each(cases)('writes the fixed layout byte for byte: %s', (_name, input) => {
    expect(Buffer.from(writeSegment(input)).equals(Buffer.from(layout(input)))).toBe(true);
  });

  it('reads back as the same samples', () => {
    const input = cases[1][1];
    const [fragment] = readFragments(writeSegment(input));
    expect(fragment.sequenceNumber).toBe(7);
    expect(fragment.baseMediaDecodeTime).toBe(0);
    expect(
      fragment.samples.map(({ duration, flags, compositionOffset, data }) => [
        duration,
        flags,
        compositionOffset,
        [...data],
      ]),
    ).toEqual(
      input.samples.map(({ duration, flags, compositionOffset, data }) => [
        duration,
        flags,
        compositionOffset,
        [...data],
      ]),
    );
  });
});
