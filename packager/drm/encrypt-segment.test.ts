import { createFile, MP4BoxBuffer } from 'mp4box';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeMedia, segmentFor, type Media } from '../../test/fixtures.ts';
import { children, readBoxes, view } from '../bmff/box-reader.ts';
import { concat } from '../bmff/box-writer.ts';
import { readFragments } from '../fragment-reader.ts';
import { protectInit } from './cenc-init.ts';
import { encryptSegment } from './encrypt-segment.ts';
import { LocalKeyStore, toHex } from './keys.ts';
import { SYSTEM_IDS } from './pssh.ts';
import { SLICE_HEADER_CLEAR, videoSubsamples } from './subsamples.ts';

const D = 2000;
const K = 885_000_123;
const keys = new LocalKeyStore();
let media: Record<'video' | 'audio' | 'sliced', Media>;

beforeAll(async () => {
  // 640x360 H.264 (GOP = D) and AAC (testdata/, made by ffmpeg), re-cut onto the epoch grid like the bridge does.
  const [video, audio, sliced] = await Promise.all([
    encodeMedia({ kind: 'video', size: '640x360' }),
    encodeMedia({ kind: 'audio' }),
    // Four slices per picture: a sample's protected runs are several (encrypt-segment.ts re-encrypts those samples as one key stream).
    encodeMedia({ kind: 'video', size: '640x360', slices: 4 }),
  ]);
  media = { video, audio, sliced };
});

const variants = [{ scheme: 'cenc', cencIvSize: 8 }, { scheme: 'cenc', cencIvSize: 16 }, { scheme: 'cbcs' }] as const;

function parseMp4box(bytes: Uint8Array): any {
  const file = createFile();
  let error: unknown;
  file.onError = (e: unknown) => (error = e);
  const copy = bytes.slice();
  file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(copy.buffer, 0));
  file.flush();
  if (error) throw new Error(`mp4box: ${String(error)}`);
  return file;
}

for (const variant of variants) {
  const scheme = variant.scheme;
  const ivSize = 'cencIvSize' in variant ? variant.cencIvSize : 0;
  for (const kind of ['video', 'audio', 'sliced'] as const) {
    if (kind === 'sliced' && ivSize === 8) continue;
    describe(`${scheme}${ivSize ? ` (${ivSize}-byte IVs)` : ''} ${kind}`, () => {
      it('mp4box reads sinf/tenc, pssh, senc/saiz/saio, and saio points at the first senc entry', async () => {
        const m = media[kind];
        const key = await keys.getKey('drm-test', kind === 'audio' ? 'audio' : 'video', 0);
        const { init, protection } = protectInit(m.init, { ...variant, key });
        const segment = await encryptSegment(segmentFor(m, K, D), protection, key);
        const file = parseMp4box(concat([init, segment]));
        const entry = file.moov.traks[0].mdia.minf.stbl.stsd.entries[0];
        expect(entry.type).toBe(kind !== 'audio' ? 'encv' : 'enca');
        const sinf = entry.sinf ?? entry.boxes.find((b: any) => b.type === 'sinf');
        expect(sinf.frma.data_format).toBe(kind !== 'audio' ? 'avc1' : 'mp4a');
        expect([sinf.schm.scheme_type, sinf.schm.scheme_version]).toEqual([scheme, 0x00010000]);
        const tenc = sinf.schi.tenc;
        expect(tenc.default_KID).toBe(toHex(key.kid));
        expect(tenc.default_isProtected).toBe(1);
        if (scheme === 'cenc') {
          expect(tenc.default_Per_Sample_IV_Size).toBe(ivSize);
        } else {
          expect(tenc.default_Per_Sample_IV_Size).toBe(0);
          expect(tenc.default_constant_IV_size).toBe(16);
          expect([tenc.default_crypt_byte_block, tenc.default_skip_byte_block]).toEqual(
            kind !== 'audio' ? [1, 9] : [0, 0],
          );
        }
        expect(file.moov.psshs.map((p: any) => p.system_id)).toEqual(
          [SYSTEM_IDS.widevine, SYSTEM_IDS.playready, SYSTEM_IDS.clearkey].map((s) => s.replace(/-/g, '')),
        );
        expect(file.moov.psshs.every((p: any) => p.kid?.length === 1)).toBe(true);
        expect(file.getInfo().tracks[0].codec).toMatch(kind !== 'audio' ? /^encv/ : /^enca/);

        const traf = file.moofs[0].trafs[0];
        const types = traf.boxes.map((b: any) => b.type);
        if (scheme === 'cbcs' && kind === 'audio') {
          // Constant IV, whole samples: nothing per sample, so no auxiliary information at all.
          expect(types).toEqual(['tfhd', 'tfdt', 'trun']);
          return;
        }
        expect(types).toEqual(['tfhd', 'tfdt', 'trun', 'saiz', 'saio', 'senc']);
        const saiz = traf.boxes.find((b: any) => b.type === 'saiz');
        const saio = traf.boxes.find((b: any) => b.type === 'saio');
        expect(saiz.sample_count).toBe(readFragments(segment)[0].samples.length);
        // Locate senc ourselves and check the offset saio declares (relative to the moof).
        const top = readBoxes(segment);
        const moof = top.find((b) => b.type === 'moof')!;
        const ourTraf = children(segment, moof).find((b) => b.type === 'traf')!;
        const senc = children(segment, ourTraf).find((b) => b.type === 'senc')!;
        expect(moof.start + saio.offset[0]).toBe(senc.payload + 8);
        expect(view(segment).getUint32(senc.payload + 4)).toBe(saiz.sample_count);
      });
    });
  }
}

/**
 * The most an AVC sample may leave clear: its non-VCL NAL units, and per slice its length,
 * header, the slice-header allowance and under 16 alignment bytes on each side of the protected run.
 */
function maxClearBytes(sample: Uint8Array): number {
  let n = 0;
  for (let p = 0; p < sample.byteLength; ) {
    const len = view(sample).getUint32(p);
    const type = sample[p + 4] & 0x1f;
    n += type >= 1 && type <= 5 ? Math.min(4 + len, 4 + 1 + SLICE_HEADER_CLEAR + 15 + 15) : 4 + len;
    p += 4 + len;
  }
  return n;
}

/** senc of the first traf, per sample: the IV and the subsample map (16-byte IVs, cenc). */
function readSenc(enc: Uint8Array): { iv: Uint8Array; subsamples?: { clear: number; protected: number }[] }[] {
  const moof = readBoxes(enc).find((b) => b.type === 'moof')!;
  const traf = children(enc, moof).find((b) => b.type === 'traf')!;
  const senc = children(enc, traf).find((b) => b.type === 'senc')!;
  const dv = view(enc);
  const withSubsamples = (dv.getUint32(senc.payload) & 2) !== 0;
  const out: ReturnType<typeof readSenc> = [];
  let at = senc.payload + 8;
  for (let i = 0; i < dv.getUint32(senc.payload + 4); i++) {
    const entry: ReturnType<typeof readSenc>[number] = { iv: enc.subarray(at, at + 16) };
    at += 16;
    if (withSubsamples) {
      entry.subsamples = [];
      for (let j = 0, n = dv.getUint16(at); j < n; j++)
        entry.subsamples.push({ clear: dv.getUint16(at + 2 + 6 * j), protected: dv.getUint32(at + 4 + 6 * j) });
      at += 2 + 6 * entry.subsamples.length;
    }
    out.push(entry);
  }
  expect(at).toBe(senc.end);
  return out;
}

describe('what is left clear', () => {
  for (const kind of ['video', 'sliced'] as const) {
    it(`cenc ${kind}: clear runs are byte-identical, each protected run is whole 16-byte blocks and covers the slice data`, async () => {
      const m = media[kind];
      const key = await keys.getKey('drm-test', 'video', 0);
      const { protection } = protectInit(m.init, { scheme: 'cenc', key });
      const clear = segmentFor(m, K, D);
      const enc = await encryptSegment(clear, protection, key, { iv: new Uint8Array(8) });
      const before = readFragments(clear)[0].samples;
      const after = readFragments(enc)[0].samples;
      const senc = readSenc(enc);
      let protectedTotal = 0;
      let runs = 0;
      for (let i = 0; i < before.length; i++) {
        let p = 0;
        for (const s of senc[i].subsamples!) {
          expect(after[i].data.subarray(p, p + s.clear)).toEqual(before[i].data.subarray(p, p + s.clear));
          expect(s.protected % 16).toBe(0);
          if (s.protected > 0) runs++;
          protectedTotal += s.protected;
          p += s.clear + s.protected;
        }
        expect(p).toBe(before[i].data.byteLength);
        expect(
          before[i].data.byteLength - senc[i].subsamples!.reduce((n, s) => n + s.protected, 0),
        ).toBeLessThanOrEqual(maxClearBytes(before[i].data));
      }
      expect(runs).toBeGreaterThanOrEqual(kind === 'sliced' ? 3 * before.length : before.length);
      // Small test slices (≈ 400 bytes at 400 kb/s in four slices) leave relatively more clear.
      expect(protectedTotal / before.reduce((n, s) => n + s.data.byteLength, 0)).toBeGreaterThan(
        kind === 'sliced' ? 0.8 : 0.9,
      );
    });
  }

  it('cbcs video: exactly the first block of every ten in a protected run is encrypted', async () => {
    const m = media.video;
    const key = await keys.getKey('drm-test', 'video', 0);
    const { protection } = protectInit(m.init, { scheme: 'cbcs', key, constantIv: new Uint8Array(16).fill(7) });
    const clear = segmentFor(m, K, D);
    const enc = await encryptSegment(clear, protection, key);
    const before = readFragments(clear)[0].samples;
    const after = readFragments(enc)[0].samples;
    let checkedBlocks = 0;
    for (let i = 0; i < before.length; i++) {
      let p = 0;
      for (const s of videoSubsamples(before[i].data, protection.nal!)) {
        p += s.clear;
        for (let b = 0; (b + 1) * 16 <= s.protected; b++) {
          const x = before[i].data.subarray(p + b * 16, p + b * 16 + 16);
          const y = after[i].data.subarray(p + b * 16, p + b * 16 + 16);
          expect(x.every((v, j) => v === y[j])).toBe(b % 10 !== 0);
          checkedBlocks++;
        }
        p += s.protected;
      }
    }
    expect(checkedBlocks).toBeGreaterThan(1000);
  });
});

describe('key rotation', () => {
  for (const scheme of ['cenc', 'cbcs'] as const) {
    it(`${scheme}: a segment under a rotated key carries a seig group and a pssh, and decrypts with that key`, async () => {
      const m = media.video;
      const first = await keys.getKey('drm-test', 'video', 0);
      const next = await keys.getKey('drm-test', 'video', 1);
      const { init, protection } = protectInit(m.init, { scheme, key: first });
      const clear = segmentFor(m, K, D);
      const segment = await encryptSegment(clear, protection, next, { keyPeriod: 1 });
      const file = parseMp4box(concat([init, segment]));
      const moof = file.moofs[0];
      const psshs = moof.boxes.filter((b: any) => b.type === 'pssh');
      expect(psshs.length).toBe(3);
      expect(psshs.every((p: any) => p.kid[0] === toHex(next.kid))).toBe(true);
      const traf = moof.trafs[0];
      expect(traf.boxes.map((b: any) => b.type)).toEqual([
        'tfhd',
        'tfdt',
        'trun',
        'saiz',
        'saio',
        'senc',
        'sbgp',
        'sgpd',
      ]);
      const seig = traf.sgpds?.[0]?.entries?.[0] ?? traf.boxes.find((b: any) => b.type === 'sgpd').entries[0];
      expect(seig.KID).toBe(toHex(next.kid));
      expect(seig.isProtected).toBe(1);
    });
  }
});

describe('cenc default: 16-byte IVs, one WebCrypto call per segment', () => {
  /** Counts crypto.subtle.encrypt calls made while fn runs. */
  async function countEncryptCalls(fn: () => Promise<unknown>): Promise<number> {
    const subtle = crypto.subtle;
    const original = subtle.encrypt;
    let calls = 0;
    subtle.encrypt = (...args: Parameters<SubtleCrypto['encrypt']>) => {
      calls++;
      return original.apply(subtle, args);
    };
    try {
      await fn();
    } finally {
      subtle.encrypt = original;
    }
    return calls;
  }

  for (const kind of ['video', 'sliced'] as const) {
    it(`${kind}: protectInit defaults to 16-byte IVs; each sample's IV is the output's key-stream counter at its first protected byte, and the segment takes one call`, async () => {
      const m = media[kind];
      const key = await keys.getKey('drm-test', 'video', 0);
      const { protection } = protectInit(m.init, { scheme: 'cenc', key });
      expect(protection.perSampleIvSize).toBe(16);
      const clear = segmentFor(m, K, D);
      const samples = readFragments(clear)[0].samples;
      let enc: Uint8Array = new Uint8Array(0);
      const calls = await countEncryptCalls(
        async () => (enc = await encryptSegment(clear, protection, key, { iv: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) })),
      );
      expect(calls).toBe(1);
      expect(samples.length).toBeGreaterThan(50);
      // The key stream runs over the output itself, started `pad` bytes before it so that the
      // first sample starts on a block: a sample's counter is where its first protected byte is.
      const encSamples = readFragments(enc)[0].samples;
      const offset = (i: number) => encSamples[i].data.byteOffset - enc.byteOffset;
      const pad = (16 - (offset(0) % 16)) % 16;
      let nextFree = 0n;
      readSenc(enc).forEach((entry, i) => {
        expect(toHex(entry.iv.subarray(0, 8))).toBe('0102030405060708');
        const counter = view(entry.iv).getBigUint64(8);
        const lead = entry.subsamples![0].clear;
        const protectedBytes = entry.subsamples!.reduce((n, s) => n + s.protected, 0);
        expect((pad + offset(i) + lead) % 16).toBe(0);
        expect(counter).toBe(BigInt((pad + offset(i) + lead) / 16));
        // Counter blocks never overlap between samples.
        expect(counter).toBeGreaterThanOrEqual(nextFree);
        nextFree = counter + BigInt(protectedBytes / 16);
      });
    });
  }

  it("audio: each sample's IV continues the previous sample's counter, and the segment takes one call", async () => {
    const m = media.audio;
    const key = await keys.getKey('drm-test', 'audio', 0);
    const { protection } = protectInit(m.init, { scheme: 'cenc', key });
    const clear = segmentFor(m, K, D);
    const samples = readFragments(clear)[0].samples;
    let enc: Uint8Array = new Uint8Array(0);
    expect(
      await countEncryptCalls(
        async () => (enc = await encryptSegment(clear, protection, key, { iv: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) })),
      ),
    ).toBe(1);
    let expected = 0n;
    readSenc(enc).forEach((entry, i) => {
      expect(toHex(entry.iv.subarray(0, 8))).toBe('0102030405060708');
      expect(view(entry.iv).getBigUint64(8)).toBe(expected);
      expected += BigInt(Math.ceil(samples[i].data.byteLength / 16));
    });
  });

  it('segments encrypted concurrently in one isolate come out as when encrypted alone', async () => {
    const [vKey, aKey] = await Promise.all([keys.getKey('drm-test', 'video', 0), keys.getKey('drm-test', 'audio', 0)]);
    const jobs = [
      { m: media.video, key: vKey, k: K },
      { m: media.sliced, key: vKey, k: K },
      { m: media.audio, key: aKey, k: K },
      { m: media.video, key: vKey, k: K + 1 },
    ].map(({ m, key, k }) => ({
      clear: segmentFor(m, k, D),
      key,
      protection: protectInit(m.init, { scheme: 'cenc', key }).protection,
    }));
    const iv = Uint8Array.of(9, 8, 7, 6, 5, 4, 3, 2);
    const alone: Uint8Array[] = [];
    for (const j of jobs) alone.push(await encryptSegment(j.clear, j.protection, j.key, { iv }));
    const together = await Promise.all(jobs.map((j) => encryptSegment(j.clear, j.protection, j.key, { iv })));
    together.forEach((out, i) => expect(toHex(out) === toHex(alone[i])).toBe(true));
  });

  it('8-byte IVs (the old-device option) still take one call per sample', async () => {
    const m = media.audio;
    const key = await keys.getKey('drm-test', 'audio', 0);
    const { protection } = protectInit(m.init, { scheme: 'cenc', key, cencIvSize: 8 });
    const clear = segmentFor(m, K, D);
    const calls = await countEncryptCalls(() => encryptSegment(clear, protection, key));
    expect(calls).toBe(readFragments(clear)[0].samples.length);
  });
});
