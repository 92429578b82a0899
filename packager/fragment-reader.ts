import { MAX_SAMPLES_PER_SEGMENT } from '../contract/ingest.ts';
import { BoxFields, children, malformed, readBoxes, type Box } from './bmff/box-reader.ts';
import type { Sample } from './sample.ts';

/** Defaults a track declares in its init segment (moov/mvex/trex). */
export interface TrackDefaults {
  trackId: number;
  defaultSampleDuration: number;
  defaultSampleSize: number;
  defaultSampleFlags: number;
}

export interface Fragment {
  sequenceNumber: number;
  trackId: number;
  baseMediaDecodeTime: number;
  samples: Sample[];
}

/**
 * Read every sample of every moof/mdat pair in `bytes` (one track). Sample data are views into
 * `bytes`, not copies. Every field is read inside its own box, every sample must lie inside an
 * mdat, and the samples of all fragments together are at most MAX_SAMPLES_PER_SEGMENT: anything
 * else is MEDIA_MALFORMED naming the box and its offset.
 */
export function readFragments(bytes: Uint8Array, defaults?: TrackDefaults): Fragment[] {
  const top = readBoxes(bytes);
  const mdats = top.filter((b) => b.type === 'mdat');
  const fragments: Fragment[] = [];
  const budget = { samples: MAX_SAMPLES_PER_SEGMENT };
  for (const box of top) {
    if (box.type === 'moof') fragments.push(readMoof(bytes, box, mdats, budget, defaults));
  }
  return fragments;
}

/** Per-sample fields a trun may carry (tr_flags bits), 4 bytes each. */
const TRUN_DURATION = 0x100;
const TRUN_SIZE = 0x200;
const TRUN_FLAGS = 0x400;
const TRUN_CTO = 0x800;

function readMoof(
  bytes: Uint8Array,
  moof: Box,
  mdats: Box[],
  budget: { samples: number },
  defaults?: TrackDefaults,
): Fragment {
  const kids = children(bytes, moof);
  const mfhd = kids.find((b) => b.type === 'mfhd');
  const trafs = kids.filter((b) => b.type === 'traf');
  if (!mfhd) throw malformed(moof, 'lacks mfhd');
  if (trafs.length !== 1)
    throw malformed(moof, `a CMAF fragment carries exactly one track (found ${trafs.length} traf)`);
  const traf = trafs[0];
  const mfhdFields = new BoxFields(bytes, mfhd);
  mfhdFields.versionAndFlags();
  const sequenceNumber = mfhdFields.u32('sequence_number');
  const trafKids = children(bytes, traf);
  const tfhd = trafKids.find((b) => b.type === 'tfhd');
  if (!tfhd) throw malformed(traf, 'lacks tfhd');

  const h = new BoxFields(bytes, tfhd);
  const tfhdFlags = h.versionAndFlags().flags;
  const trackId = h.u32('track_ID');
  let baseDataOffset = moof.start;
  if (tfhdFlags & 0x01) baseDataOffset = h.u64('base_data_offset');
  if (tfhdFlags & 0x02) h.u32('sample_description_index');
  const defaultDuration = tfhdFlags & 0x08 ? h.u32('default_sample_duration') : (defaults?.defaultSampleDuration ?? 0);
  const defaultSize = tfhdFlags & 0x10 ? h.u32('default_sample_size') : (defaults?.defaultSampleSize ?? 0);
  const defaultFlags = tfhdFlags & 0x20 ? h.u32('default_sample_flags') : (defaults?.defaultSampleFlags ?? 0);

  const tfdt = trafKids.find((b) => b.type === 'tfdt');
  if (!tfdt) throw malformed(traf, 'lacks tfdt');
  const t = new BoxFields(bytes, tfdt);
  const baseMediaDecodeTime =
    t.versionAndFlags().version === 1 ? t.u64('baseMediaDecodeTime') : t.u32('baseMediaDecodeTime');

  const samples: Sample[] = [];
  let dts = baseMediaDecodeTime;
  /** Where the next trun's data starts when it has no data_offset: after the previous run's. */
  let dataPos = baseDataOffset;
  for (const trun of trafKids.filter((b) => b.type === 'trun')) {
    const r = new BoxFields(bytes, trun);
    const { version, flags } = r.versionAndFlags();
    const count = r.u32('sample_count');
    if (flags & 0x001) dataPos = baseDataOffset + r.i32('data_offset');
    const firstFlags = flags & 0x004 ? r.u32('first_sample_flags') : undefined;
    const perSample = [TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_CTO].filter((bit) => flags & bit).length * 4;
    // Bounded before anything is allocated: by the cap, by the trun's own bytes, and (sizes from
    // defaults) by the bytes that remain after where the data starts.
    if (count > budget.samples)
      throw malformed(
        trun,
        `sample_count ${count} takes the segment past ${MAX_SAMPLES_PER_SEGMENT} samples (MAX_SAMPLES_PER_SEGMENT)`,
      );
    r.need(perSample * count, `${count} samples of ${perSample} bytes each`);
    if (!(flags & TRUN_SIZE) && defaultSize > 0 && count * defaultSize > bytes.byteLength - dataPos)
      throw malformed(
        trun,
        `${count} samples of ${defaultSize} bytes from offset ${dataPos} run past the end of the body (truncated mdat?)`,
      );
    budget.samples -= count;
    let mdat: Box | undefined;
    for (let i = 0; i < count; i++) {
      const duration = flags & TRUN_DURATION ? r.u32('sample_duration') : defaultDuration;
      const size = flags & TRUN_SIZE ? r.u32('sample_size') : defaultSize;
      let sampleFlags = flags & TRUN_FLAGS ? r.u32('sample_flags') : defaultFlags;
      if (i === 0 && firstFlags !== undefined) sampleFlags = firstFlags;
      let cto = 0;
      if (flags & TRUN_CTO)
        cto = version === 0 ? r.u32('sample_composition_time_offset') : r.i32('sample_composition_time_offset');
      // An empty sample has no bytes to be anywhere (its view is empty wherever it points).
      if (size > 0 && (!mdat || dataPos < mdat.payload || dataPos + size > mdat.end))
        mdat = mdatHolding(mdats, dataPos, size);
      if (size > 0 && !mdat)
        throw malformed(
          trun,
          `sample ${i} (${size} bytes at offset ${dataPos}) is not inside an mdat${dataPos + size > bytes.byteLength ? ' (truncated mdat?)' : ''}`,
        );
      samples.push({
        dts,
        duration,
        flags: sampleFlags,
        compositionOffset: cto,
        data: bytes.subarray(dataPos, dataPos + size),
      });
      dts += duration;
      dataPos += size;
    }
  }
  return { sequenceNumber, trackId, baseMediaDecodeTime, samples };
}

/** The mdat whose payload holds [at, at + size), if any. */
function mdatHolding(mdats: Box[], at: number, size: number): Box | undefined {
  return mdats.find((m) => at >= m.payload && at + size <= m.end);
}
