import { AppError } from '../contract/errors.ts';
import { children, readBoxes, view, type Box } from './bmff/box-reader.ts';
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
 * `bytes`, not copies. Throws MEDIA_MALFORMED when the boxes do not add up.
 */
export function readFragments(bytes: Uint8Array, defaults?: TrackDefaults): Fragment[] {
  const fragments: Fragment[] = [];
  for (const box of readBoxes(bytes)) {
    if (box.type === 'moof') fragments.push(readMoof(bytes, box, defaults));
  }
  return fragments;
}

function readMoof(bytes: Uint8Array, moof: Box, defaults?: TrackDefaults): Fragment {
  const dv = view(bytes);
  const kids = children(bytes, moof);
  const mfhd = kids.find((b) => b.type === 'mfhd');
  const traf = kids.find((b) => b.type === 'traf');
  if (!mfhd || !traf)
    throw new AppError('MEDIA_MALFORMED', `moof at offset ${moof.start} lacks ${mfhd ? 'traf' : 'mfhd'}`);
  if (kids.filter((b) => b.type === 'traf').length > 1)
    throw new AppError('MEDIA_MALFORMED', 'a CMAF fragment carries exactly one track (found several traf)');
  const sequenceNumber = dv.getUint32(mfhd.payload + 4);
  const trafKids = children(bytes, traf);
  const tfhd = trafKids.find((b) => b.type === 'tfhd');
  if (!tfhd) throw new AppError('MEDIA_MALFORMED', `traf at offset ${traf.start} lacks tfhd`);

  const tfhdFlags = dv.getUint32(tfhd.payload) & 0xffffff;
  const trackId = dv.getUint32(tfhd.payload + 4);
  let p = tfhd.payload + 8;
  let baseDataOffset = moof.start;
  if (tfhdFlags & 0x01) {
    baseDataOffset = Number(dv.getBigUint64(p));
    p += 8;
  }
  if (tfhdFlags & 0x02) p += 4;
  let defaultDuration = defaults?.defaultSampleDuration ?? 0;
  let defaultSize = defaults?.defaultSampleSize ?? 0;
  let defaultFlags = defaults?.defaultSampleFlags ?? 0;
  if (tfhdFlags & 0x08) {
    defaultDuration = dv.getUint32(p);
    p += 4;
  }
  if (tfhdFlags & 0x10) {
    defaultSize = dv.getUint32(p);
    p += 4;
  }
  if (tfhdFlags & 0x20) {
    defaultFlags = dv.getUint32(p);
    p += 4;
  }
  if (p > tfhd.end) throw new AppError('MEDIA_MALFORMED', 'tfhd is shorter than its flags require');

  const tfdt = trafKids.find((b) => b.type === 'tfdt');
  if (!tfdt) throw new AppError('MEDIA_MALFORMED', `traf at offset ${traf.start} lacks tfdt`);
  const tfdtVersion = dv.getUint8(tfdt.payload);
  const baseMediaDecodeTime =
    tfdtVersion === 1 ? Number(dv.getBigUint64(tfdt.payload + 4)) : dv.getUint32(tfdt.payload + 4);

  const samples: Sample[] = [];
  let dts = baseMediaDecodeTime;
  for (const trun of trafKids.filter((b) => b.type === 'trun')) {
    const version = dv.getUint8(trun.payload);
    const flags = dv.getUint32(trun.payload) & 0xffffff;
    const count = dv.getUint32(trun.payload + 4);
    let q = trun.payload + 8;
    let dataOffset = 0;
    if (flags & 0x001) {
      dataOffset = dv.getInt32(q);
      q += 4;
    }
    let firstFlags: number | undefined;
    if (flags & 0x004) {
      firstFlags = dv.getUint32(q);
      q += 4;
    }
    const perSample =
      (flags & 0x100 ? 4 : 0) + (flags & 0x200 ? 4 : 0) + (flags & 0x400 ? 4 : 0) + (flags & 0x800 ? 4 : 0);
    if (q + perSample * count > trun.end) {
      throw new AppError(
        'MEDIA_MALFORMED',
        `trun at offset ${trun.start} declares ${count} samples but is too short for them`,
      );
    }
    let dataPos = baseDataOffset + dataOffset;
    for (let i = 0; i < count; i++) {
      const duration = flags & 0x100 ? dv.getUint32((q += 4) - 4) : defaultDuration;
      const size = flags & 0x200 ? dv.getUint32((q += 4) - 4) : defaultSize;
      let sampleFlags = flags & 0x400 ? dv.getUint32((q += 4) - 4) : defaultFlags;
      if (i === 0 && firstFlags !== undefined) sampleFlags = firstFlags;
      let cto = 0;
      if (flags & 0x800) cto = version === 0 ? dv.getUint32((q += 4) - 4) : dv.getInt32((q += 4) - 4);
      if (dataPos + size > bytes.byteLength) {
        throw new AppError(
          'MEDIA_MALFORMED',
          `sample ${i} of fragment ${sequenceNumber} runs past the end of the data (${dataPos + size} > ${bytes.byteLength}): truncated mdat?`,
        );
      }
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
