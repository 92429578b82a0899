import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeMedia, segmentFor, type Media } from '../../test/fixtures.ts';
import { concat } from '../bmff/box-writer.ts';
import { protectInit } from './cenc-init.ts';
import { encryptSegment } from './encrypt-segment.ts';
import { LocalKeyStore, toHex } from './keys.ts';

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

// ffmpeg (an independent CENC implementation) decrypts and hashes packets.
const run = promisify(execFile);
const FFMPEG = process.env.FFMPEG ?? '/usr/bin/ffmpeg';

/** One ffmpeg input: a header and one segment, decrypted with `keyHex` when given. */
interface FfmpegInput {
  init: Uint8Array;
  segment: Uint8Array;
  keyHex?: string;
}

/**
 * One ffmpeg process for many inputs: starting ffmpeg costs more than hashing a segment (this file
 * once started 68 of them, most of its 12 s). ffmpeg 5.1 finds a packet's encryption info through
 * the last moof its demuxer parsed, not the packet's own, so several encrypted fragments in one
 * file fail there (fixed in later ffmpeg by get_frag_stream_info_from_pkt): each input is a header
 * with one segment, with its own demuxer and its own -decryption_key.
 * Returns, per input, ffmpeg's per-packet MD5 lines, stream-copied so that the hashes are of the
 * exact sample bytes (after decryption when a key is given; timestamps are part of each line, the
 * stream index is dropped); and per input listed in `decode`, its decoded-frame MD5s, which prove
 * that a decrypted bitstream also decodes to the same pictures.
 */
async function ffmpegHashes(
  inputs: FfmpegInput[],
  decode: number[] = [],
): Promise<{ packets: string[][]; frames: Map<number, string[]> }> {
  const dir = await mkdtemp(join(tmpdir(), 'drm-'));
  try {
    const args = ['-v', 'error'];
    for (const [i, input] of inputs.entries()) {
      const file = join(dir, `in${i}.mp4`);
      await writeFile(file, concat([input.init, input.segment]));
      args.push(...(input.keyHex ? ['-decryption_key', input.keyHex] : []), '-i', file);
    }
    args.push(...inputs.flatMap((_, i) => ['-map', String(i)]), '-c', 'copy', '-f', 'framemd5', join(dir, 'packets'));
    for (const i of decode) args.push('-map', String(i), '-f', 'framemd5', join(dir, `frames${i}`));
    await run(FFMPEG, args, { maxBuffer: 64 << 20 });
    const lines = async (name: string) =>
      (await readFile(join(dir, name), 'utf8')).split('\n').filter((l) => l && !l.startsWith('#'));
    const packets = inputs.map((): string[] => []);
    for (const line of await lines('packets')) {
      const comma = line.indexOf(',');
      packets[Number(line.slice(0, comma))].push(line.slice(comma + 1).trim());
    }
    const frames = new Map<number, string[]>();
    for (const i of decode) frames.set(i, await lines(`frames${i}`));
    return { packets, frames };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

type Kind = 'video' | 'audio' | 'sliced';
type Variant = (typeof variants)[number];
const WRONG_KEY = '00112233445566778899aabbccddeeff';

/** ffmpeg's view of one kind: its clear segments K and K+1, and each variant's encryptions of them. */
interface Judged {
  clear: { packets: string[][]; frames: string[] };
  /** Per variant: packets of K and K+1 with the key, then with a wrong key; decoded frames of K. */
  variants: Map<Variant, { packets: string[][]; frames: string[] }>;
}

const judgedKinds = new Map<Kind, Promise<Judged>>();
/**
 * Every variant of a kind encrypts segments K and K+1, and one ffmpeg run hashes them all beside
 * the clear ones: inputs 0-1 clear, then per variant 4 inputs (K and K+1 with the key, K and K+1
 * with a wrong key); segment K decoded for the clear input and each variant (video).
 */
function judged(kind: Kind): Promise<Judged> {
  let result = judgedKinds.get(kind);
  if (!result) {
    result = (async () => {
      const m = media[kind];
      const key = await keys.getKey('drm-test', kind === 'audio' ? 'audio' : 'video', 0);
      const clear = [K, K + 1].map((k) => segmentFor(m, k, D));
      const inputs: FfmpegInput[] = clear.map((segment) => ({ init: m.init, segment }));
      const mine = variants.filter((v) => kind !== 'sliced' || !('cencIvSize' in v && v.cencIvSize === 8));
      for (const variant of mine) {
        const { init, protection } = protectInit(m.init, { ...variant, key });
        const encrypted = await Promise.all(clear.map((c) => encryptSegment(c, protection, key)));
        for (const keyHex of [toHex(key.key), WRONG_KEY])
          inputs.push(...encrypted.map((segment) => ({ init, segment, keyHex })));
      }
      const firsts = [0, ...mine.map((_, v) => 2 + 4 * v)];
      const { packets, frames } = await ffmpegHashes(inputs, kind === 'audio' ? [] : firsts);
      return {
        clear: { packets: packets.slice(0, 2), frames: frames.get(0) ?? [] },
        variants: new Map(
          mine.map((variant, v) => [
            variant,
            { packets: packets.slice(2 + 4 * v, 6 + 4 * v), frames: frames.get(2 + 4 * v) ?? [] },
          ]),
        ),
      };
    })();
    judgedKinds.set(kind, result);
  }
  return result;
}

/** ffmpeg marks the first decrypted packet with the pssh side data; the sample bytes are what we compare. */
const stripSideData = (lines: string[]) => lines.map((l) => l.replace(/, S=\d+.*$/, ''));

for (const variant of variants) {
  const scheme = variant.scheme;
  const ivSize = 'cencIvSize' in variant ? variant.cencIvSize : 0;
  for (const kind of ['video', 'audio', 'sliced'] as const) {
    if (kind === 'sliced' && ivSize === 8) continue;
    describe(`${scheme}${ivSize ? ` (${ivSize}-byte IVs)` : ''} ${kind}`, () => {
      it('ffmpeg decrypts each of two segments to exactly the clear samples, and not without the key', async () => {
        const { clear, variants: byVariant } = await judged(kind);
        const { packets, frames } = byVariant.get(variant)!;
        for (const i of [0, 1]) {
          const expected = clear.packets[i];
          expect(expected.length).toBe(kind === 'audio' ? 94 : 60);
          expect(stripSideData(packets[i])).toEqual(expected);
          // With a wrong key, every packet differs.
          const wrong = stripSideData(packets[2 + i]);
          expect(wrong.length).toBe(expected.length);
          expect(wrong.filter((l, j) => l !== expected[j]).length).toBe(expected.length);
        }
        // The decrypted bitstream of segment K also decodes to the same pictures.
        if (kind !== 'audio') {
          expect(clear.frames.length).toBe(60);
          expect(frames).toEqual(clear.frames);
        }
      });
    });
  }
}

describe('key rotation', () => {
  for (const scheme of ['cenc', 'cbcs'] as const) {
    it(`${scheme}: a segment under a rotated key decrypts with that key`, async () => {
      const m = media.video;
      const first = await keys.getKey('drm-test', 'video', 0);
      const next = await keys.getKey('drm-test', 'video', 1);
      const { init, protection } = protectInit(m.init, { scheme, key: first });
      const segment = await encryptSegment(segmentFor(m, K, D), protection, next, { keyPeriod: 1 });
      // ffmpeg 5.1 ignores seig and uses -decryption_key for every sample: give it the period's key.
      const { packets } = await ffmpegHashes([{ init, segment, keyHex: toHex(next.key) }]);
      expect(stripSideData(packets[0])).toEqual((await judged('video')).clear.packets[0]);
    });
  }
});
