/**
 * Rewrite a clear CMAF header into a protected one (ISO/IEC 23001-7 §8): the sample entry becomes
 * encv/enca with a sinf (frma: original format, schm: scheme, schi/tenc: default KID and IV
 * layout), and moov gains one pssh per DRM system. Everything else stays byte-identical.
 */
import { AppError } from '../../contract/errors.ts';
import { BoxFields, children, readBoxes, requirePath, type Box } from '../bmff/box-reader.ts';
import { box, concat, fullBox, str, u32, u8 } from '../bmff/box-writer.ts';
import { readInitInfo } from '../init-info.ts';
import type { ContentKey } from './keys.ts';
import type { TrackProtection } from './protection.ts';
import { ALL_SYSTEMS, psshFor, type DrmSystem, type ProtectionScheme } from './pssh.ts';
import { splice } from './splice.ts';

export interface ProtectInitOptions {
  scheme: ProtectionScheme;
  /** The key of the track's first period; only its KID is written. */
  key: Pick<ContentKey, 'kid'>;
  /**
   * cenc: per-sample IV size. 16 (default) lets encryptSegment chain every sample's IV onto the
   * previous sample's counter, so a whole segment is one WebCrypto call (docs/drm.md). 8 is for
   * the few old devices (some PlayReady SL2000 TVs) that refuse 16-byte IVs: one call per sample.
   */
  cencIvSize?: 8 | 16;
  /** cbcs: the constant IV (16 bytes). Defaults to 16 random bytes. */
  constantIv?: Uint8Array;
  /** pssh boxes to write (default: Widevine, PlayReady, ClearKey). */
  systems?: readonly DrmSystem[];
  playreadyLaUrl?: string;
}

export interface ProtectedInit {
  init: Uint8Array;
  protection: TrackProtection;
}

const STSD_PATH = ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd'];
/** Bytes of a VisualSampleEntry before its child boxes. */
const VISUAL_ENTRY_FIELDS = 78;

export function protectInit(init: Uint8Array, o: ProtectInitOptions): ProtectedInit {
  if (o.key.kid.byteLength !== 16) throw new AppError('INTERNAL', 'a KID is 16 bytes');
  const top = readBoxes(init);
  const moov = requirePath(init, top, ['moov']);
  if (children(init, moov).some((b) => b.type === 'pssh'))
    throw new AppError('MEDIA_MALFORMED', 'this header is already protected (moov has pssh)');
  const chain = STSD_PATH.map((_, i) => requirePath(init, top, STSD_PATH.slice(0, i + 1)));
  const stsd = chain[chain.length - 1];
  const entries = children(init, stsd, 8);
  if (entries.length !== 1)
    throw new AppError('MEDIA_MALFORMED', `a CMAF header has one sample entry, found ${entries.length}`);
  const entry = entries[0];
  if (entry.type === 'encv' || entry.type === 'enca')
    throw new AppError('MEDIA_MALFORMED', 'this header is already protected');
  const info = readInitInfo(init);
  if (info.kind === 'text') throw new AppError('MEDIA_UNSUPPORTED_CODEC', 'text tracks are not encrypted');

  const protection: TrackProtection =
    o.scheme === 'cenc'
      ? {
          scheme: 'cenc',
          kind: info.kind,
          defaultKid: o.key.kid,
          perSampleIvSize: o.cencIvSize ?? 16,
          cryptByteBlock: 0,
          skipByteBlock: 0,
        }
      : {
          scheme: 'cbcs',
          kind: info.kind,
          defaultKid: o.key.kid,
          perSampleIvSize: 0,
          constantIv: o.constantIv ?? crypto.getRandomValues(new Uint8Array(16)),
          // CMAF/Apple: 1:9 for video; audio encrypts every whole block (no pattern).
          cryptByteBlock: info.kind === 'video' ? 1 : 0,
          skipByteBlock: info.kind === 'video' ? 9 : 0,
        };
  if (protection.constantIv && protection.constantIv.byteLength !== 16)
    throw new AppError('INTERNAL', 'the cbcs constant IV is 16 bytes');
  if (info.kind === 'video') protection.nal = nalFraming(init, entry);

  const sinf = box(
    'sinf',
    box('frma', str(entry.type)),
    fullBox('schm', 0, 0, str(o.scheme), u32(0x00010000)),
    box('schi', tencBox(protection)),
  );
  const pssh = concat(
    (o.systems ?? ALL_SYSTEMS).map((s) =>
      psshFor(s, { scheme: o.scheme, kids: [o.key.kid], playreadyLaUrl: o.playreadyLaUrl }),
    ),
  );
  const out = splice(init, [
    { at: entry.end, bytes: sinf, ancestors: [...chain, entry] },
    { at: moov.end, bytes: pssh, ancestors: [moov] },
  ]);
  // The entry's type is the only byte change outside sizes; it did not move (insertions are after it).
  out.set(str(info.kind === 'video' ? 'encv' : 'enca'), entry.start + 4);
  return { init: out, protection };
}

/** TrackEncryptionBox (§8.2): version 1 carries the cbcs pattern. */
export function tencBox(p: TrackProtection): Uint8Array {
  const version = p.scheme === 'cbcs' ? 1 : 0;
  const pattern = version === 1 ? ((p.cryptByteBlock & 0xf) << 4) | (p.skipByteBlock & 0xf) : 0;
  const constant = p.perSampleIvSize === 0 && p.constantIv ? [u8(p.constantIv.byteLength), p.constantIv] : [];
  return fullBox('tenc', version, 0, u8(0), u8(pattern), u8(1), u8(p.perSampleIvSize), p.defaultKid, ...constant);
}

/** NAL length size from avcC (lengthSizeMinusOne, byte 4) or hvcC (byte 21). */
function nalFraming(init: Uint8Array, entry: Box): TrackProtection['nal'] {
  const kids = children(init, entry, VISUAL_ENTRY_FIELDS);
  if (entry.type === 'avc1' || entry.type === 'avc3') {
    const avcC = kids.find((b) => b.type === 'avcC');
    if (!avcC) throw new AppError('MEDIA_MALFORMED', `${entry.type} lacks avcC`);
    return { codec: 'avc', lengthSize: (new BoxFields(init, avcC, 4).u8('lengthSizeMinusOne') & 3) + 1 };
  }
  if (entry.type === 'hvc1' || entry.type === 'hev1') {
    const hvcC = kids.find((b) => b.type === 'hvcC');
    if (!hvcC) throw new AppError('MEDIA_MALFORMED', `${entry.type} lacks hvcC`);
    return { codec: 'hevc', lengthSize: (new BoxFields(init, hvcC, 21).u8('lengthSizeMinusOne') & 3) + 1 };
  }
  throw new AppError('MEDIA_UNSUPPORTED_CODEC', `cannot subsample-encrypt '${entry.type}'`);
}
