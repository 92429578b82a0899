/**
 * Encrypt one clear CMAF segment for a track protected by protectInit (ISO/IEC 23001-7):
 * sample data are encrypted in place in the mdat, and each traf gains
 *   saiz + saio  (where the per-sample auxiliary information is: size per sample, and the offset
 *                 of senc's first entry relative to the moof, since tfhd is default-base-is-moof)
 *   senc         (per-sample IV for cenc; subsample map for video)
 *   sbgp + sgpd  ('seig' sample group, only when the key is not the init's default KID: in-band
 *                 key rotation), with pssh boxes for the new KID in the moof.
 * trun data_offset and every enclosing box size are fixed up; all other bytes stay as they were.
 */
import { AppError } from '../../contract/errors.ts';
import { children, readBoxes, view } from '../bmff/box-reader.ts';
import { concat, fullBox, str, u32, u8, type Part } from '../bmff/box-writer.ts';
import { readFragments, type TrackDefaults } from '../fragment-reader.ts';
import { cbcPatternInPlace, ctrInPlace, ctrSegmentInPlace, importContentKey, type Range } from './cipher.ts';
import type { ContentKey } from './keys.ts';
import type { TrackProtection } from './protection.ts';
import { ALL_SYSTEMS, psshFor, type DrmSystem } from './pssh.ts';
import { splice, type Insertion } from './splice.ts';
import { videoSubsamples, type Subsample } from './subsamples.ts';

export interface EncryptOptions {
  /**
   * cenc, 8 random bytes by default, so counters never repeat under one key across segments or
   * pipelines (a repeated CTR counter would leak plaintext). 16-byte IVs (the default layout):
   * sample i uses iv ‖ (16-byte blocks of protected data before sample i), i.e. each sample's IV
   * continues the previous sample's counter and the segment's protected bytes, each sample padded
   * to a block, form one key stream (one WebCrypto call). 8-byte IVs: sample i uses iv + i, and
   * each sample is its own key stream (one call per sample). Pass it only to make output
   * reproducible (tests, and ingest, which derives it from the clear bytes).
   */
  iv?: Uint8Array;
  /** trex defaults of the clear init, for segments whose trun omits sample sizes. */
  defaults?: TrackDefaults;
  /** pssh systems written into the moof when the key is rotated (default: all three). */
  systems?: readonly DrmSystem[];
  /** Widevine crypto_period_index for a rotated key. */
  keyPeriod?: number;
}

interface SampleJob {
  /** Offset of the sample in the input. */
  offset: number;
  size: number;
  /** Video only. */
  subsamples?: Subsample[];
  iv?: Uint8Array;
}

const TFHD_BASE_DATA_OFFSET = 0x000001;
const TRUN_DATA_OFFSET = 0x000001;
const SENC_USE_SUBSAMPLES = 0x000002;
/** sbgp group_description_index 0x10001: entry 1 of the sgpd in this fragment (not the moov's). */
const FRAGMENT_LOCAL_GROUP = 0x10001;

const keyCache = new WeakMap<Uint8Array, Map<string, Promise<CryptoKey>>>();

export async function encryptSegment(segment: Uint8Array, p: TrackProtection, key: ContentKey, o: EncryptOptions = {}): Promise<Uint8Array> {
  if (key.key.byteLength !== 16 || key.kid.byteLength !== 16) throw new AppError('INTERNAL', 'a content key needs a 16-byte kid and key');
  const top = readBoxes(segment);
  const moofs = top.filter((b) => b.type === 'moof');
  if (moofs.length === 0) throw new AppError('MEDIA_NOT_SEGMENT', 'a segment needs at least one moof');
  const fragments = readFragments(segment, o.defaults);
  const rotated = !equalBytes(key.kid, p.defaultKid);
  const ivBase = p.scheme === 'cenc' ? (o.iv ?? crypto.getRandomValues(new Uint8Array(8))) : undefined;
  if (ivBase && ivBase.byteLength !== 8) throw new AppError('INTERNAL', 'the cenc IV is 8 bytes');

  const insertions: Insertion[] = [];
  const jobs: SampleJob[] = [];
  /** trun data_offset fields (input offsets) and the moof growth to add to each. */
  const dataOffsetPatches: { at: number; delta: number }[] = [];
  let sampleIndex = 0;
  /** 16-byte IVs: 16-byte blocks of protected data so far in this segment. */
  let blockOffset = 0;
  moofs.forEach((moof, f) => {
    const kids = children(segment, moof);
    const traf = kids.find((b) => b.type === 'traf')!;
    const trafKids = children(segment, traf);
    const tfhd = trafKids.find((b) => b.type === 'tfhd')!;
    if (view(segment).getUint32(tfhd.payload) & TFHD_BASE_DATA_OFFSET) {
      throw new AppError('MEDIA_MALFORMED', 'tfhd carries an absolute base_data_offset; CMAF segments use default-base-is-moof');
    }
    const fragJobs = fragments[f].samples.map((s): SampleJob => {
      const job: SampleJob = { offset: s.data.byteOffset - segment.byteOffset, size: s.data.byteLength };
      if (p.nal) job.subsamples = videoSubsamples(s.data, p.nal);
      if (ivBase && p.perSampleIvSize === 8) job.iv = addToIv(ivBase, sampleIndex);
      if (ivBase && p.perSampleIvSize === 16) {
        job.iv = concat([ivBase, u64be(blockOffset)]);
        blockOffset += Math.ceil(protectedBytes(job) / 16);
      }
      sampleIndex++;
      return job;
    });
    jobs.push(...fragJobs);

    const pssh = rotated ? concat((o.systems ?? ALL_SYSTEMS).map((s) => psshFor(s, { scheme: p.scheme, kids: [key.kid], cryptoPeriodIndex: o.keyPeriod }))) : new Uint8Array(0);
    // pssh goes before the traf, the new traf children after its last child.
    const trafStartInMoof = traf.start - moof.start + pssh.byteLength;
    const trafEndInMoof = trafStartInMoof + (traf.end - traf.start);
    const extra = trafExtras(p, key, fragJobs, rotated, trafEndInMoof);
    if (pssh.byteLength) insertions.push({ at: traf.start, bytes: pssh, ancestors: [moof] });
    if (extra.byteLength) insertions.push({ at: traf.end, bytes: extra, ancestors: [moof, traf] });
    const growth = pssh.byteLength + extra.byteLength;
    for (const trun of trafKids.filter((b) => b.type === 'trun')) {
      if (!(view(segment).getUint32(trun.payload) & TRUN_DATA_OFFSET)) throw new AppError('MEDIA_MALFORMED', 'trun without data_offset');
      dataOffsetPatches.push({ at: trun.payload + 8, delta: growth });
    }
  });

  const out = splice(segment, insertions);
  const shift = (offset: number) => insertions.reduce((n, i) => (i.at <= offset ? n + i.bytes.byteLength : n), 0);
  const dv = view(out);
  for (const patch of dataOffsetPatches) {
    const at = patch.at + shift(patch.at);
    dv.setInt32(at, dv.getInt32(at) + patch.delta);
  }

  const cryptoKey = await importCached(key.key, p);
  if (p.perSampleIvSize === 16) {
    await ctrSegmentInPlace(cryptoKey, ivBase!, out, jobs.map((job) => protectedRanges(job, job.offset + shift(job.offset))));
  } else {
    await Promise.all(jobs.map((job) => encryptSample(out, job, job.offset + shift(job.offset), p, cryptoKey)));
  }
  return out;
}

/** Where a sample's protected bytes are, given that the sample starts at `at`. */
function protectedRanges(job: SampleJob, at: number): Range[] {
  if (!job.subsamples) return job.size > 0 ? [[at, job.size]] : [];
  const ranges: Range[] = [];
  let q = at;
  for (const s of job.subsamples) {
    q += s.clear;
    if (s.protected > 0) ranges.push([q, s.protected]);
    q += s.protected;
  }
  return ranges;
}

function protectedBytes(job: SampleJob): number {
  return job.subsamples ? job.subsamples.reduce((n, s) => n + s.protected, 0) : job.size;
}

function u64be(n: number): Uint8Array {
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, Math.floor(n / 2 ** 32));
  dv.setUint32(4, n >>> 0);
  return out;
}

function encryptSample(out: Uint8Array, job: SampleJob, at: number, p: TrackProtection, key: CryptoKey): Promise<void> {
  if (p.scheme === 'cenc') {
    const ranges = protectedRanges(job, at);
    return ranges.length ? ctrInPlace(key, job.iv!, out, ranges) : Promise.resolve();
  }
  const iv = p.constantIv!;
  if (!job.subsamples) return cbcPatternInPlace(key, iv, out, at, job.size, p.cryptByteBlock, p.skipByteBlock);
  const calls: Promise<void>[] = [];
  let q = at;
  for (const s of job.subsamples) {
    q += s.clear;
    if (s.protected >= 16) calls.push(cbcPatternInPlace(key, iv, out, q, s.protected, p.cryptByteBlock, p.skipByteBlock));
    q += s.protected;
  }
  return Promise.all(calls).then(() => undefined);
}

/**
 * saiz, saio, senc (and the seig group when rotated), laid out so that saio can point at senc's
 * first entry: `trafEndInMoof` is where these boxes start, relative to the moof.
 */
function trafExtras(p: TrackProtection, key: ContentKey, jobs: SampleJob[], rotated: boolean, trafEndInMoof: number): Uint8Array {
  const parts: Uint8Array[] = [];
  const hasAuxInfo = p.perSampleIvSize > 0 || jobs.some((j) => j.subsamples);
  // cbcs audio: constant IV and whole-sample encryption leave nothing per sample, so no senc
  // (tenc alone describes every sample; Shaka packager and Apple do the same).
  if (hasAuxInfo) {
    const entries = jobs.map((j) => senCEntry(j, p));
    const sizes = entries.map((e) => e.byteLength);
    if (sizes.some((s) => s > 255)) throw new AppError('MEDIA_UNSUPPORTED_CODEC', 'a sample has too many subsamples for saiz (more than 42 slices?)');
    const uniform = sizes.every((s) => s === sizes[0]);
    const saiz = fullBox('saiz', 0, 0, u8(uniform ? sizes[0] : 0), u32(jobs.length), ...(uniform ? [] : [Uint8Array.from(sizes)]));
    const saioSize = 8 + 4 + 4 + 4;
    const sencFirstEntry = trafEndInMoof + saiz.byteLength + saioSize + 16;
    const saio = fullBox('saio', 0, 0, u32(1), u32(sencFirstEntry));
    const senc = fullBox('senc', 0, jobs.some((j) => j.subsamples) ? SENC_USE_SUBSAMPLES : 0, u32(jobs.length), ...entries);
    parts.push(saiz, saio, senc);
  }
  if (rotated) {
    // CencSampleEncryptionInformationGroupEntry (§6): the KID (and IV layout) for these samples.
    const constant = p.perSampleIvSize === 0 && p.constantIv ? [u8(16), p.constantIv] : [];
    const pattern = p.scheme === 'cbcs' ? ((p.cryptByteBlock & 0xf) << 4) | (p.skipByteBlock & 0xf) : 0;
    const entry = concat([u8(0), u8(pattern), u8(1), u8(p.perSampleIvSize), key.kid, ...constant]);
    parts.push(
      fullBox('sbgp', 0, 0, str('seig'), u32(1), u32(jobs.length), u32(FRAGMENT_LOCAL_GROUP)),
      fullBox('sgpd', 1, 0, str('seig'), u32(entry.byteLength), u32(1), entry),
    );
  }
  return concat(parts);
}

function senCEntry(job: SampleJob, p: TrackProtection): Uint8Array {
  const parts: Part[] = [];
  if (p.perSampleIvSize > 0) parts.push(job.iv!);
  if (job.subsamples) {
    parts.push(u16(job.subsamples.length));
    for (const s of job.subsamples) parts.push(u16(s.clear), u32(s.protected));
  }
  return concat(parts);
}

function addToIv(base: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(8);
  const value = (new DataView(base.buffer, base.byteOffset, 8).getBigUint64(0) + BigInt(n)) & 0xffffffffffffffffn;
  new DataView(out.buffer).setBigUint64(0, value);
  return out;
}

function importCached(key: Uint8Array, p: TrackProtection): Promise<CryptoKey> {
  // Keyed by the key's bytes object: a provider that returns the same ContentKey reuses it.
  let byScheme = keyCache.get(key);
  if (!byScheme) keyCache.set(key, (byScheme = new Map()));
  let k = byScheme.get(p.scheme);
  if (!k) byScheme.set(p.scheme, (k = importContentKey(key, p.scheme)));
  return k;
}

function u16(value: number): Uint8Array {
  return Uint8Array.of((value >> 8) & 0xff, value & 0xff);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}
