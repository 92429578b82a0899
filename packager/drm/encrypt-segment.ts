/**
 * Encrypt one clear CMAF segment for a track protected by protectInit (ISO/IEC 23001-7):
 * sample data are encrypted in place in the mdat, and each traf gains
 *   saiz + saio  (where the per-sample auxiliary information is: size per sample, and the offset
 *                 of senc's first entry relative to the moof, since tfhd is default-base-is-moof)
 *   senc         (per-sample IV for cenc; subsample map for video)
 *   sbgp + sgpd  ('seig' sample group, only when the key is not the init's default KID: in-band
 *                 key rotation), with pssh boxes for the new KID in the moof.
 * trun data_offset and every enclosing box size are fixed up; all other bytes stay as they were.
 * The result may be a view that does not start at its buffer's first byte (use byteOffset).
 */
import { AppError } from '../../contract/errors.ts';
import { children, readBoxes, view } from '../bmff/box-reader.ts';
import { concat, fullBox, str, u32, u8 } from '../bmff/box-writer.ts';
import { readFragments, type TrackDefaults } from '../fragment-reader.ts';
import {
  cbcPatternInPlace,
  ctrInPlace,
  ctrSegmentInPlace,
  ctrStream,
  importContentKey,
  scratchBuffer,
  type Range,
} from './cipher.ts';
import type { ContentKey } from './keys.ts';
import type { TrackProtection } from './protection.ts';
import { ALL_SYSTEMS, psshFor, type DrmSystem } from './pssh.ts';
import { splice, type Insertion } from './splice.ts';
import { videoSubsamples, type Subsample } from './subsamples.ts';

export interface EncryptOptions {
  /**
   * cenc, 8 random bytes by default, so counters never repeat under one key across segments or
   * pipelines (a repeated CTR counter would leak plaintext). 16-byte IVs (the default layout):
   * sample i uses iv ‖ C_i, one key stream and one WebCrypto call per segment; for video C_i is the
   * block of the sample's first protected byte in the laid-out output (encryptLaidOut), for audio
   * the 16-byte blocks of protected data before it (each sample padded to a block, gathered).
   * 8-byte IVs: sample i uses iv + i, and
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
  /** cenc 8-byte IVs. */
  iv?: Uint8Array;
  /** cenc 16-byte IVs: the low 64 bits (the IV is the segment's 8 random bytes ‖ this). */
  ivLow?: number;
  /** cenc 16-byte IVs, video: the sample's first protected block, counted from the first sample. */
  block?: number;
}

const TFHD_BASE_DATA_OFFSET = 0x000001;
const TRUN_DATA_OFFSET = 0x000001;
const SENC_USE_SUBSAMPLES = 0x000002;
/** sbgp group_description_index 0x10001: entry 1 of the sgpd in this fragment (not the moov's). */
const FRAGMENT_LOCAL_GROUP = 0x10001;

const keyCache = new WeakMap<Uint8Array, Map<string, Promise<CryptoKey>>>();

export async function encryptSegment(
  segment: Uint8Array,
  p: TrackProtection,
  key: ContentKey,
  o: EncryptOptions = {},
): Promise<Uint8Array> {
  if (key.key.byteLength !== 16 || key.kid.byteLength !== 16)
    throw new AppError('INTERNAL', 'a content key needs a 16-byte kid and key');
  const top = readBoxes(segment);
  const moofs = top.filter((b) => b.type === 'moof');
  if (moofs.length === 0) throw new AppError('MEDIA_NOT_SEGMENT', 'a segment needs at least one moof');
  const fragments = readFragments(segment, o.defaults);
  const rotated = !equalBytes(key.kid, p.defaultKid);
  const ivBase = p.scheme === 'cenc' ? (o.iv ?? crypto.getRandomValues(new Uint8Array(8))) : undefined;
  if (ivBase && ivBase.byteLength !== 8) throw new AppError('INTERNAL', 'the cenc IV is 8 bytes');

  // cenc 16-byte IVs, video, one fragment (every segment the bridge makes): one AES-CTR call over
  // the output as laid out (encryptLaidOut); every other layout gathers protected bytes (cipher.ts).
  const streamVideo = p.scheme === 'cenc' && p.perSampleIvSize === 16 && p.nal !== undefined && moofs.length === 1;
  const stream = sampleSpan(segment, fragments);
  let rebuildExtra = (): void => {};
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
      throw new AppError(
        'MEDIA_MALFORMED',
        'tfhd carries an absolute base_data_offset; CMAF segments use default-base-is-moof',
      );
    }
    const fragJobs = fragments[f].samples.map((s): SampleJob => {
      const job: SampleJob = { offset: s.data.byteOffset - segment.byteOffset, size: s.data.byteLength };
      if (p.nal)
        job.subsamples = videoSubsamples(s.data, p.nal, streamVideo ? (job.offset - stream.start) % 16 : undefined);
      if (ivBase && p.perSampleIvSize === 8) job.iv = addToIv(ivBase, sampleIndex);
      if (ivBase && streamVideo) {
        // Blocks from the first sample to this one's first protected byte (a block boundary); the
        // IV adds where the samples start in the key stream (set below, once the layout is known).
        const first = protectedRanges(job, job.offset)[0]?.[0] ?? job.offset;
        job.block = Math.floor((first - stream.start) / 16);
        job.ivLow = job.block;
      } else if (ivBase && p.perSampleIvSize === 16) {
        job.ivLow = blockOffset;
        blockOffset += Math.ceil(protectedBytes(job) / 16);
      }
      sampleIndex++;
      return job;
    });
    jobs.push(...fragJobs);

    const pssh = rotated
      ? concat(
          (o.systems ?? ALL_SYSTEMS).map((s) =>
            psshFor(s, { scheme: p.scheme, kids: [key.kid], cryptoPeriodIndex: o.keyPeriod }),
          ),
        )
      : new Uint8Array(0);
    // pssh goes before the traf, the new traf children after its last child.
    const trafStartInMoof = traf.start - moof.start + pssh.byteLength;
    const trafEndInMoof = trafStartInMoof + (traf.end - traf.start);
    const extra = trafExtras(p, key, fragJobs, rotated, trafEndInMoof, ivBase);
    if (pssh.byteLength) insertions.push({ at: traf.start, bytes: pssh, ancestors: [moof] });
    const extraInsertion: Insertion = { at: traf.end, bytes: extra, ancestors: [moof, traf] };
    if (extra.byteLength) insertions.push(extraInsertion);
    rebuildExtra = () => (extraInsertion.bytes = trafExtras(p, key, fragJobs, rotated, trafEndInMoof, ivBase));
    const growth = pssh.byteLength + extra.byteLength;
    for (const trun of trafKids.filter((b) => b.type === 'trun')) {
      if (!(view(segment).getUint32(trun.payload) & TRUN_DATA_OFFSET))
        throw new AppError('MEDIA_MALFORMED', 'trun without data_offset');
      dataOffsetPatches.push({ at: trun.payload + 8, delta: growth });
    }
  });

  const cryptoKey = await importCached(key.key, p);
  if (streamVideo && stream.end > stream.start) {
    // The layout maps output to input by a fixed offset from the first sample on, which holds
    // when the samples follow the moof (the mdat after it), as in every CMAF fragment.
    if (insertions.some((i) => i.at > stream.start))
      throw new AppError('MEDIA_MALFORMED', 'trun data_offset points into the moof: sample data must follow it');
    // The output's samples start `head` bytes in; `pad` bytes before the output put them on a
    // key-stream block boundary, `startBlock` blocks from the stream's start.
    const head = stream.start + insertions.reduce((n, i) => n + i.bytes.byteLength, 0);
    const pad = (16 - (head % 16)) % 16;
    const startBlock = (pad + head) / 16;
    for (const job of jobs) job.ivLow = startBlock + job.block!;
    rebuildExtra(); // same size: only IV values changed
    return encryptLaidOut(cryptoKey, ivBase!, segment, { ...stream, head, pad }, jobs, (into) =>
      patchDataOffsets(splice(segment, insertions, into), insertions, dataOffsetPatches),
    );
  }
  const out = patchDataOffsets(splice(segment, insertions), insertions, dataOffsetPatches);
  const shift = (offset: number) => insertions.reduce((n, i) => (i.at <= offset ? n + i.bytes.byteLength : n), 0);
  if (p.perSampleIvSize === 16) {
    await ctrSegmentInPlace(
      cryptoKey,
      ivBase!,
      out,
      jobs.map((job) => protectedRanges(job, job.offset + shift(job.offset))),
    );
  } else {
    await Promise.all(jobs.map((job) => encryptSample(out, job, job.offset + shift(job.offset), p, cryptoKey)));
  }
  return out;
}

/** Add the moof growth to each trun data_offset, at its place in the spliced output. */
function patchDataOffsets(
  out: Uint8Array,
  insertions: Insertion[],
  patches: { at: number; delta: number }[],
): Uint8Array {
  const dv = view(out);
  for (const patch of patches) {
    const at = patch.at + insertions.reduce((n, i) => (i.at <= patch.at ? n + i.bytes.byteLength : n), 0);
    dv.setInt32(at, dv.getInt32(at) + patch.delta);
  }
  return out;
}

/** From the first sample's first byte to the last sample's end: the bytes ctrStream encrypts. */
function sampleSpan(segment: Uint8Array, fragments: ReturnType<typeof readFragments>): { start: number; end: number } {
  let start = Infinity;
  let end = 0;
  for (const f of fragments) {
    for (const s of f.samples) {
      if (s.data.byteLength === 0) continue;
      const at = s.data.byteOffset - segment.byteOffset;
      start = Math.min(start, at);
      end = Math.max(end, at + s.data.byteLength);
    }
  }
  return start === Infinity ? { start: 0, end: 0 } : { start, end };
}

/**
 * cenc 16-byte IVs, video, one fragment: one AES-CTR call, whose output is the segment. The clear
 * output (styp, moof with senc, mdat header, samples) is laid out in the isolate's scratch buffer
 * `pad` bytes in, so that the samples start on a key-stream block boundary; each sample's
 * protected runs start on block boundaries from there (videoSubsamples with `phase`) and its IV
 * is the counter at its first run. The whole buffer is encrypted from counter hi8 ‖ 0, then every
 * byte outside a protected run (boxes, NAL and slice headers, alignment bytes, non-VCL NALs) is
 * put back from the clear layout. Why this shape: in workerd a fresh multi-megabyte buffer costs
 * about as much as the AES (allocation and first touch), and WebCrypto always returns a fresh
 * one, so its result must be the output: no other large buffer is made.
 * A sample with several protected runs (several slices) is one key stream over its runs only, so
 * its runs are moved together to start at its first run before the call and back after it. No
 * key-stream block is used twice: each sample's stream lies within its own bytes.
 */
async function encryptLaidOut(
  key: CryptoKey,
  hi8: Uint8Array,
  segment: Uint8Array,
  at: { start: number; end: number; head: number; pad: number },
  jobs: SampleJob[],
  layOut: (into: Uint8Array) => Uint8Array,
): Promise<Uint8Array> {
  const total = segment.byteLength + at.head - at.start;
  const input = scratchBuffer(at.pad + total);
  // The boxes before the samples, kept aside: the scratch buffer is the isolate's, and another
  // segment's encryption may lay itself out there while this call awaits its result.
  const head = layOut(input.subarray(at.pad)).slice(0, at.head);
  const first = at.pad + at.head; // where the samples start in the encrypted buffer
  const runs = jobs.map((job) => protectedRanges(job, first + job.offset - at.start));
  const sliced = runs.filter((r) => r.length > 1);
  for (const r of sliced) {
    let q = r[0][0];
    for (const [from, len] of r) {
      input.copyWithin(q, from, from + len);
      q += len;
    }
  }
  const out = await ctrStream(key, hi8, input);
  for (const r of sliced) {
    // Back to place, last run first: a run only moves up, past where earlier runs still are.
    let q = r.reduce((n, [, len]) => n + len, r[0][0]);
    for (let j = r.length - 1; j >= 0; j--) {
      q -= r[j][1];
      out.copyWithin(r[j][0], q, q + r[j][1]);
    }
  }
  // Clear bytes: the boxes before the samples from the layout, the rest from the input (the
  // layout's sliced samples were moved; past `first`, output and input differ by a fixed offset).
  const restore = (from: number, to: number) => {
    if (from < first) out.set(head.subarray(from - at.pad, Math.min(to, first) - at.pad), from);
    const a = Math.max(from, first);
    if (to > a) out.set(segment.subarray(a - first + at.start, to - first + at.start), a);
  };
  let p = at.pad;
  for (const [from, len] of runs.flat().sort((x, y) => x[0] - y[0])) {
    if (from > p) restore(p, from);
    p = from + len;
  }
  if (p < out.byteLength) restore(p, out.byteLength);
  return out.subarray(at.pad);
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
    if (s.protected >= 16)
      calls.push(cbcPatternInPlace(key, iv, out, q, s.protected, p.cryptByteBlock, p.skipByteBlock));
    q += s.protected;
  }
  return Promise.all(calls).then(() => undefined);
}

/**
 * saiz, saio, senc (and the seig group when rotated), laid out so that saio can point at senc's
 * first entry: `trafEndInMoof` is where these boxes start, relative to the moof.
 */
function trafExtras(
  p: TrackProtection,
  key: ContentKey,
  jobs: SampleJob[],
  rotated: boolean,
  trafEndInMoof: number,
  hi8: Uint8Array | undefined,
): Uint8Array {
  const parts: Uint8Array[] = [];
  const hasAuxInfo = p.perSampleIvSize > 0 || jobs.some((j) => j.subsamples);
  // cbcs audio: constant IV and whole-sample encryption leave nothing per sample, so no senc
  // (tenc alone describes every sample; Shaka packager and Apple do the same).
  if (hasAuxInfo) {
    const sizes = jobs.map((j) => Math.max(p.perSampleIvSize, 0) + (j.subsamples ? 2 + 6 * j.subsamples.length : 0));
    const entries = sencEntries(jobs, p, sizes, hi8);
    if (sizes.some((s) => s > 255))
      throw new AppError('MEDIA_UNSUPPORTED_CODEC', 'a sample has too many subsamples for saiz (more than 42 slices?)');
    const uniform = sizes.every((s) => s === sizes[0]);
    const saiz = fullBox(
      'saiz',
      0,
      0,
      u8(uniform ? sizes[0] : 0),
      u32(jobs.length),
      ...(uniform ? [] : [Uint8Array.from(sizes)]),
    );
    const saioSize = 8 + 4 + 4 + 4;
    const sencFirstEntry = trafEndInMoof + saiz.byteLength + saioSize + 16;
    const saio = fullBox('saio', 0, 0, u32(1), u32(sencFirstEntry));
    const senc = fullBox(
      'senc',
      0,
      jobs.some((j) => j.subsamples) ? SENC_USE_SUBSAMPLES : 0,
      u32(jobs.length),
      entries,
    );
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

/** senc's entries, written into one buffer (a box part per field costs more than the AES for small samples). */
function sencEntries(jobs: SampleJob[], p: TrackProtection, sizes: number[], hi8: Uint8Array | undefined): Uint8Array {
  const out = new Uint8Array(sizes.reduce((n, x) => n + x, 0));
  const dv = view(out);
  let at = 0;
  for (const job of jobs) {
    if (p.perSampleIvSize === 8) out.set(job.iv!, at);
    if (p.perSampleIvSize === 16) {
      out.set(hi8!, at);
      dv.setUint32(at + 8, Math.floor(job.ivLow! / 2 ** 32));
      dv.setUint32(at + 12, job.ivLow! >>> 0);
    }
    at += p.perSampleIvSize;
    if (job.subsamples) {
      dv.setUint16(at, job.subsamples.length);
      at += 2;
      for (const s of job.subsamples) {
        dv.setUint16(at, s.clear);
        dv.setUint32(at + 2, s.protected);
        at += 6;
      }
    }
  }
  return out;
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

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}
