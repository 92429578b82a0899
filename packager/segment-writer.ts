import { box, concat, fullBox, i32, str, u32, u64 } from './bmff/box-writer.ts';
import type { Sample } from './sample.ts';

export interface SegmentInput {
  /** mfhd sequence number: we use the epoch number K (mod 2^32) so it is identical across pipelines. */
  sequenceNumber: number;
  trackId: number;
  /** tfdt, written as a 64-bit version-1 box. */
  baseMediaDecodeTime: number;
  samples: Sample[];
}

const STYP = box('styp', str('cmfs'), u32(0), str('cmfs'), str('msdh'));

/**
 * Write one CMAF segment in the project's fixed layout:
 * styp; moof(mfhd, traf(tfhd default-base-is-moof, tfdt v1, trun)); mdat.
 * The trun carries duration, size, flags and composition offset for every sample so that no
 * player has to combine defaults from three places.
 */
export function writeSegment(input: SegmentInput): Uint8Array {
  const needsSignedCto = input.samples.some((s) => s.compositionOffset < 0);
  const buildMoof = (dataOffset: number) =>
    box(
      'moof',
      fullBox('mfhd', 0, 0, u32(input.sequenceNumber >>> 0)),
      box(
        'traf',
        fullBox('tfhd', 0, 0x020000, u32(input.trackId)),
        fullBox('tfdt', 1, 0, u64(input.baseMediaDecodeTime)),
        fullBox(
          'trun',
          needsSignedCto ? 1 : 0,
          0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800,
          u32(input.samples.length),
          i32(dataOffset),
          ...input.samples.flatMap((s) => [
            u32(s.duration),
            u32(s.data.byteLength),
            u32(s.flags),
            needsSignedCto ? i32(s.compositionOffset) : u32(s.compositionOffset),
          ]),
        ),
      ),
    );
  const moofSize = buildMoof(0).byteLength;
  const moof = buildMoof(moofSize + 8);
  const mdat = box('mdat', ...input.samples.map((s) => s.data));
  return concat([STYP, moof, mdat]);
}
