/**
 * Read back the TrackProtection that protectInit wrote into a header (sinf/schm + schi/tenc, and
 * the NAL framing from avcC/hvcC), so segments can be encrypted later from the stored protected
 * init alone.
 */
import { BoxFields, children, malformed, readBoxes, requirePath } from '../bmff/box-reader.ts';
import { readInitInfo } from '../init-info.ts';
import { fromHex } from './keys.ts';
import type { TrackProtection } from './protection.ts';

const STSD_PATH = ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd'];

/** The protection of a protected header, or undefined for a clear one. */
export function readTrackProtection(init: Uint8Array): TrackProtection | undefined {
  const info = readInitInfo(init);
  if (!info.protection || info.kind === 'text') return undefined;
  const entry = children(init, requirePath(init, readBoxes(init), STSD_PATH), 8)[0];
  const kids = children(init, entry, info.kind === 'video' ? 78 : 28);
  const sinf = kids.find((b) => b.type === 'sinf')!;
  const schi = children(init, sinf).find((b) => b.type === 'schi')!;
  const tenc = children(init, schi).find((b) => b.type === 'tenc')!;
  // Every field is read inside tenc (readInitInfo has checked it holds them all).
  const t = new BoxFields(init, tenc);
  const { version } = t.versionAndFlags();
  t.skip(1, 'reserved');
  const patternByte = t.u8('default_crypt_byte_block and default_skip_byte_block');
  const pattern = version === 1 ? patternByte : 0;
  t.u8('default_isProtected');
  const ivSize = t.u8('default_Per_Sample_IV_Size');
  t.skip(16, 'default_KID');
  if (ivSize !== 0 && ivSize !== 8 && ivSize !== 16)
    throw malformed(tenc, `Per_Sample_IV_Size ${ivSize} is not 0, 8 or 16`);
  const protection: TrackProtection = {
    scheme: info.protection.scheme,
    kind: info.kind,
    defaultKid: fromHex(info.protection.defaultKid),
    perSampleIvSize: ivSize,
    cryptByteBlock: pattern >> 4,
    skipByteBlock: pattern & 0xf,
  };
  if (ivSize === 0) protection.constantIv = t.bytesOf(t.u8('default_constant_IV_size'), 'default_constant_IV').slice();
  if (info.kind === 'video') {
    const config = kids.find((b) => b.type === 'avcC' || b.type === 'hvcC');
    if (!config) throw malformed(entry, 'lacks avcC/hvcC');
    const avc = config.type === 'avcC';
    const lengthSize = (new BoxFields(init, config, avc ? 4 : 21).u8('lengthSizeMinusOne') & 3) + 1;
    protection.nal = { codec: avc ? 'avc' : 'hevc', lengthSize };
  }
  return protection;
}
