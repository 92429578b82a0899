/**
 * Golden CMAF vectors (testdata/expected/segments/, testdata/README.md): for a 29.97 fps AVC, an
 * HEVC and an AAC-LC track of testdata/media, the clear header and segment K as the bridge would
 * publish it (segmentFor), and their cenc and cbcs protections under the documented test keys
 * (testdata/drm/cpix-answer.xml, period 0) and fixed IVs. The packager must remake every file byte
 * for byte, and each encrypted segment must decrypt, by a decryptor written here from ISO/IEC
 * 23001-7 that reads only tenc and senc (node:crypto, not the packager's cipher code), to exactly
 * the clear samples. UPDATE_GOLDEN=1 rewrites the files after an intended change.
 */
import { createDecipheriv } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectGoldenBytes, readGolden } from '../../test/golden.ts';
import { type EncodeOptions, loadMedia, type Media, segmentFor } from '../../test/media.ts';
import { CBCS_IV, CENC_IV, testdataKey } from '../../test/testdata-drm.ts';
import { children, readBoxes, view } from '../bmff/box-reader.ts';
import { readFragments } from '../fragment-reader.ts';
import { readInitInfo } from '../init-info.ts';
import { protectInit } from './cenc-init.ts';
import { encryptSegment } from './encrypt-segment.ts';
import { readTrackProtection } from './track-protection.ts';

const D = 2000;
/** 2025-11-25T08:00:00Z on the 2 s grid. */
const K = Date.UTC(2025, 10, 25, 8) / D;

const TRACKS: { name: string; options: EncodeOptions; kind: 'video' | 'audio' }[] = [
  { name: 'avc', options: { kind: 'video', fps: '30000/1001', bitrateKbps: 100 }, kind: 'video' },
  { name: 'hevc', options: { kind: 'video', codec: 'hevc', bitrateKbps: 100 }, kind: 'video' },
  { name: 'aac', options: { kind: 'audio' }, kind: 'audio' },
];
const SCHEMES = ['cenc', 'cbcs'] as const;

const media = new Map<string, Media>();
beforeAll(async () => {
  for (const t of TRACKS) media.set(t.name, await loadMedia(t.options));
});

/** The header and segment of one track under one scheme, made now by the packager. */
async function protect(name: string, kind: 'video' | 'audio', scheme: (typeof SCHEMES)[number]) {
  const m = media.get(name)!;
  const key = testdataKey(kind);
  const { init, protection } = protectInit(m.init, { scheme, key, constantIv: CBCS_IV });
  const segment = await encryptSegment(segmentFor(m, K, D), protection, key, { iv: CENC_IV });
  return { init, segment };
}

for (const { name, kind } of TRACKS) {
  describe(`${name}: testdata/expected/segments/${name}/`, () => {
    it('init.mp4 and clear.m4s: the clear header and segment K, as the bridge publishes them', () => {
      const m = media.get(name)!;
      expectGoldenBytes(`segments/${name}/init.mp4`, m.init);
      expectGoldenBytes(`segments/${name}/clear.m4s`, segmentFor(m, K, D));
    });

    for (const scheme of SCHEMES) {
      it(`${scheme}-init.mp4 and ${scheme}.m4s: protectInit and encryptSegment remake them byte for byte`, async () => {
        const { init, segment } = await protect(name, kind, scheme);
        expectGoldenBytes(`segments/${name}/${scheme}-init.mp4`, init);
        expectGoldenBytes(`segments/${name}/${scheme}.m4s`, segment);
      });

      it(`${scheme}.m4s decrypts with the documented key to exactly the clear samples`, () => {
        const init = readGolden(`segments/${name}/${scheme}-init.mp4`);
        const encrypted = readGolden(`segments/${name}/${scheme}.m4s`);
        const clear = readFragments(readGolden(`segments/${name}/clear.m4s`))[0].samples;
        const info = readInitInfo(init);
        expect(info.protection?.scheme).toBe(scheme);
        expect(info.protection?.defaultKid).toBe(Buffer.from(testdataKey(kind).kid).toString('hex'));
        const samples = readFragments(encrypted, info)[0].samples;
        const decrypted = decryptSamples(init, encrypted, testdataKey(kind).key);
        expect(decrypted.length).toBe(clear.length);
        expect(samples.map(({ dts, duration, flags }) => ({ dts, duration, flags }))).toEqual(
          clear.map(({ dts, duration, flags }) => ({ dts, duration, flags })),
        );
        decrypted.forEach((d, i) => expect(Buffer.from(d).equals(clear[i].data), `sample ${i}`).toBe(true));
        // And it was encrypted: every sample differs from its clear bytes before decryption.
        expect(samples.filter((s, i) => Buffer.from(s.data).equals(clear[i].data)).length).toBe(0);
        // A wrong key gives other bytes for every sample.
        const wrong = decryptSamples(init, encrypted, new Uint8Array(16));
        expect(wrong.filter((d, i) => Buffer.from(d).equals(clear[i].data)).length).toBe(0);
      });
    }
  });
}

/** Per-sample auxiliary information from senc: IV (cenc) and subsample map (video). */
interface AuxInfo {
  iv?: Uint8Array;
  subsamples?: { clear: number; protected: number }[];
}

/**
 * A Common Encryption decryptor from the standard alone (ISO/IEC 23001-7 §9-10): tenc gives the
 * scheme, IV size, constant IV and pattern; senc each sample's IV and subsample map.
 * cenc: AES-128-CTR from the sample's IV over the protected bytes of all its subsamples as one
 * key stream. cbcs: per protected range, AES-128-CBC from the constant IV over the crypt blocks of
 * the pattern (every whole block when the pattern is 0:0), skip blocks and a partial tail clear.
 */
function decryptSamples(init: Uint8Array, segment: Uint8Array, key: Uint8Array): Uint8Array[] {
  const p = readTrackProtection(init)!;
  const samples = readFragments(segment, readInitInfo(init))[0].samples;
  const aux = readSenc(segment, p.perSampleIvSize);
  return samples.map((s, i) => {
    const out = s.data.slice();
    const entry = aux?.[i] ?? {};
    const ranges: [number, number][] = [];
    if (entry.subsamples) {
      let at = 0;
      for (const sub of entry.subsamples) {
        at += sub.clear;
        ranges.push([at, sub.protected]);
        at += sub.protected;
      }
      expect(at).toBe(out.byteLength);
    } else {
      ranges.push([0, out.byteLength]);
    }
    if (p.scheme === 'cenc') {
      const iv = new Uint8Array(16);
      iv.set(entry.iv!);
      const ctr = createDecipheriv('aes-128-ctr', key, iv);
      for (const [from, len] of ranges) out.set(ctr.update(out.subarray(from, from + len)), from);
      return out;
    }
    const period = p.cryptByteBlock + p.skipByteBlock;
    for (const [from, len] of ranges) {
      const blocks: number[] = [];
      for (let b = 0; (b + 1) * 16 <= len; b++) if (period === 0 || b % period < p.cryptByteBlock) blocks.push(b);
      if (blocks.length === 0) continue;
      const gathered = Buffer.concat(blocks.map((b) => out.subarray(from + b * 16, from + b * 16 + 16)));
      const cbc = createDecipheriv('aes-128-cbc', key, p.constantIv!).setAutoPadding(false);
      const plain = Buffer.concat([cbc.update(gathered), cbc.final()]);
      blocks.forEach((b, j) => out.set(plain.subarray(j * 16, j * 16 + 16), from + b * 16));
    }
    return out;
  });
}

/** senc of the first traf, or undefined when there is none (cbcs audio: tenc describes every sample). */
function readSenc(segment: Uint8Array, ivSize: number): AuxInfo[] | undefined {
  const moof = readBoxes(segment).find((b) => b.type === 'moof')!;
  const traf = children(segment, moof).find((b) => b.type === 'traf')!;
  const senc = children(segment, traf).find((b) => b.type === 'senc');
  if (!senc) return undefined;
  const dv = view(segment);
  const withSubsamples = (dv.getUint32(senc.payload) & 2) !== 0;
  const out: AuxInfo[] = [];
  let at = senc.payload + 8;
  for (let i = 0, n = dv.getUint32(senc.payload + 4); i < n; i++) {
    const entry: AuxInfo = {};
    if (ivSize) entry.iv = segment.subarray(at, at + ivSize);
    at += ivSize;
    if (withSubsamples) {
      entry.subsamples = [];
      for (let j = 0, count = dv.getUint16(at); j < count; j++)
        entry.subsamples.push({ clear: dv.getUint16(at + 2 + 6 * j), protected: dv.getUint32(at + 4 + 6 * j) });
      at += 2 + 6 * entry.subsamples.length;
    }
    out.push(entry);
  }
  expect(at).toBe(senc.end);
  return out;
}
