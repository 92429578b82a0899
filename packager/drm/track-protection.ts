/**
 * Read back the TrackProtection that protectInit wrote into a header (sinf/schm + schi/tenc, and
 * the NAL framing from avcC/hvcC), so segments can be encrypted later from the stored protected
 * init alone.
 */
import { AppError } from '../../contract/errors.ts';
import { children, fourcc, readBoxes, requirePath, view } from '../bmff/box-reader.ts';
import { readInitInfo } from '../init-info.ts';
import { fromHex } from './keys.ts';
import type { TrackProtection } from './protection.ts';

const STSD_PATH = ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd'];

/** The protection of a protected header, or undefined for a clear one. */
export function readTrackProtection(init: Uint8Array): TrackProtection | undefined {
  const info = readInitInfo(init);
  if (!info.protection || info.kind === 'text') return undefined;
  const entry = children(init, requirePath(init, readBoxes(init), STSD_PATH), 8)[0];
  const kids = readBoxes(init, entry.payload + (info.kind === 'video' ? 78 : 28), entry.end);
  const sinf = kids.find((b) => b.type === 'sinf')!;
  const schi = children(init, sinf).find((b) => b.type === 'schi')!;
  const tenc = children(init, schi).find((b) => b.type === 'tenc')!;
  const dv = view(init);
  const p = tenc.payload;
  const version = dv.getUint8(p);
  const pattern = version === 1 ? dv.getUint8(p + 5) : 0;
  const ivSize = dv.getUint8(p + 7);
  if (ivSize !== 0 && ivSize !== 8 && ivSize !== 16)
    throw new AppError('MEDIA_MALFORMED', `tenc Per_Sample_IV_Size ${ivSize} is not 0, 8 or 16`);
  const protection: TrackProtection = {
    scheme: info.protection.scheme,
    kind: info.kind,
    defaultKid: fromHex(info.protection.defaultKid),
    perSampleIvSize: ivSize,
    cryptByteBlock: pattern >> 4,
    skipByteBlock: pattern & 0xf,
  };
  if (ivSize === 0) {
    const n = dv.getUint8(p + 24);
    protection.constantIv = init.slice(p + 25, p + 25 + n);
  }
  if (info.kind === 'video') {
    const config = kids.find((b) => b.type === 'avcC' || b.type === 'hvcC');
    if (!config) throw new AppError('MEDIA_MALFORMED', `${fourcc(init, entry.start + 4)} lacks avcC/hvcC`);
    protection.nal =
      config.type === 'avcC'
        ? { codec: 'avc', lengthSize: (init[config.payload + 4] & 3) + 1 }
        : { codec: 'hevc', lengthSize: (init[config.payload + 21] & 3) + 1 };
  }
  return protection;
}
