import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../contract/errors.ts';
import { encodeMedia, type Media } from '../test/fixtures.ts';
import { type Box, children, containerTypes, fourcc, readBoxes } from './bmff/box-reader.ts';
import { box, concat, fullBox, u32, u64 } from './bmff/box-writer.ts';
import { protectInit } from './drm/cenc-init.ts';
import { LocalKeyStore, toHex } from './drm/keys.ts';
import { readTrackProtection } from './drm/track-protection.ts';
import { readInitInfo } from './init-info.ts';

let video: Media;
let audio: Media;
beforeAll(async () => {
  [video, audio] = await Promise.all([encodeMedia({ kind: 'video', size: '640x360' }), encodeMedia({ kind: 'audio' })]);
});

describe('readInitInfo on protected headers', () => {
  for (const scheme of ['cenc', 'cbcs'] as const) {
    it(`${scheme}: reads the original format from sinf/frma and exposes scheme and default KID`, async () => {
      const keys = new LocalKeyStore();
      for (const media of [video, audio]) {
        const key = await keys.getKey('t', media.info.kind as 'video' | 'audio', 0);
        const { init, protection } = protectInit(media.init, { scheme, key, constantIv: new Uint8Array(16).fill(7) });
        const info = readInitInfo(init);
        expect(info).toEqual({ ...media.info, protection: { scheme, defaultKid: toHex(key.kid) } });
        expect(media.info.protection).toBeUndefined();
        // What encryptSegment needs can be read back from the stored header alone.
        expect(readTrackProtection(init)).toEqual(protection);
        expect(readTrackProtection(media.init)).toBeUndefined();
      }
    });
  }
});

/** MEDIA_MALFORMED's message from `fn`; anything else thrown (a RangeError, a TypeError) fails the test. */
function malformedMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    expect(err.code).toBe('MEDIA_MALFORMED');
    return err.message;
  }
  throw new Error('expected MEDIA_MALFORMED, nothing was thrown');
}

/** Nothing but a parse or an AppError, whatever the bytes. */
function parsesOrRefuses(fn: () => unknown, what: string): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof AppError)) throw new Error(`${what}: ${err}`);
  }
}

/** The chain of boxes from the top level to `path` (e.g. ['moov', 'mvex', 'trex']). */
function chain(init: Uint8Array, path: string[]): Box[] {
  const out: Box[] = [];
  let siblings = readBoxes(init);
  for (const type of path) {
    const b = siblings.find((x) => x.type === type);
    if (!b) throw new Error(`no ${path.join('/')}`);
    out.push(b);
    siblings = type === 'stsd' ? children(init, b, 8) : containerTypes.has(type) ? children(init, b) : [];
  }
  return out;
}

/** `init` with the box at `path` replaced by `replacement`, every enclosing size fixed up. */
function replaceBox(init: Uint8Array, path: string[], replacement: Uint8Array): { bytes: Uint8Array; at: number } {
  const boxes = chain(init, path);
  const target = boxes[boxes.length - 1];
  const bytes = concat([init.subarray(0, target.start), replacement, init.subarray(target.end)]);
  const delta = replacement.byteLength - (target.end - target.start);
  const dv = new DataView(bytes.buffer);
  for (const b of boxes.slice(0, -1)) dv.setUint32(b.start, dv.getUint32(b.start) + delta);
  return { bytes, at: target.start };
}

const STSD = ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd'];

describe('readInitInfo: hostile headers are MEDIA_MALFORMED naming the box and offset', () => {
  it('a huge stsd entry_count', () => {
    const [stsd] = chain(video.init, STSD).slice(-1);
    const bytes = video.init.slice();
    new DataView(bytes.buffer).setUint32(stsd.payload + 4, 0xffffffff);
    expect(malformedMessage(() => readInitInfo(bytes))).toBe(
      `stsd at offset ${stsd.start}: entry_count 4294967295 but it holds 1 sample entries`,
    );
  });

  it('a trex too short for its defaults', () => {
    const { bytes, at } = replaceBox(video.init, ['moov', 'mvex', 'trex'], fullBox('trex', 0, 0, u32(1), u32(1)));
    expect(malformedMessage(() => readInitInfo(bytes))).toMatch(
      new RegExp(`^trex at offset ${at}: default_sample_duration needs 4 bytes`),
    );
  });

  it('tkhd, mdhd and hdlr too short for their fields', () => {
    const tkhd = replaceBox(video.init, ['moov', 'trak', 'tkhd'], fullBox('tkhd', 0, 3, u32(0), u32(0)));
    expect(malformedMessage(() => readInitInfo(tkhd.bytes))).toMatch(
      new RegExp(`^tkhd at offset ${tkhd.at}: track_ID`),
    );
    const mdhd = replaceBox(video.init, ['moov', 'trak', 'mdia', 'mdhd'], fullBox('mdhd', 1, 0, u64(0), u64(0)));
    expect(malformedMessage(() => readInitInfo(mdhd.bytes))).toMatch(
      new RegExp(`^mdhd at offset ${mdhd.at}: timescale`),
    );
    const hdlr = replaceBox(video.init, ['moov', 'trak', 'mdia', 'hdlr'], fullBox('hdlr', 0, 0, u32(0)));
    expect(malformedMessage(() => readInitInfo(hdlr.bytes))).toMatch(
      new RegExp(`^hdlr at offset ${hdlr.at}: handler_type needs 4 bytes`),
    );
  });

  it('a sample entry shorter than its fields, an avcC too short for its record, an esds cut short', () => {
    const entry = replaceBox(video.init, [...STSD, 'avc1'], box('avc1', new Uint8Array(40)));
    expect(malformedMessage(() => readInitInfo(entry.bytes))).toBe(
      `avc1 at offset ${entry.at}: is 48 bytes, too short for its 78 bytes of fields before its boxes`,
    );
    const [avc1] = chain(video.init, STSD.concat('avc1')).slice(-1);
    const avcC = readBoxes(video.init, avc1.payload + 78, avc1.end, avc1).find((b) => b.type === 'avcC')!;
    // An avcC of 3 bytes: too short for the record the codecs string and the DRM packager read.
    const cut = replaceBox(
      video.init,
      [...STSD, 'avc1'],
      rebuildEntry(video.init, avc1, avcC, box('avcC', Uint8Array.of(1, 0x64, 0))),
    );
    expect(malformedMessage(() => readInitInfo(cut.bytes))).toMatch(
      /^avcC at offset \d+: AVCDecoderConfigurationRecord needs 7 bytes at offset \d+ but the box ends at \d+ \(3 left\)$/,
    );
    const [mp4a] = chain(audio.init, STSD.concat('mp4a')).slice(-1);
    const esds = readBoxes(audio.init, mp4a.payload + 28, mp4a.end, mp4a).find((b) => b.type === 'esds')!;
    const esdsCut = replaceBox(
      audio.init,
      [...STSD, 'mp4a'],
      rebuildEntry(audio.init, mp4a, esds, fullBox('esds', 0, 0, Uint8Array.of(0x03, 0x80))),
    );
    expect(malformedMessage(() => readInitInfo(esdsCut.bytes))).toMatch(
      /^esds at offset \d+: descriptor size at byte 2 of its descriptors runs past the box$/,
    );
  });

  it('a trak that declares more bytes than its moov holds (nested overflow)', () => {
    const [moov, trak] = chain(video.init, ['moov', 'trak']);
    const bytes = video.init.slice();
    const dv = new DataView(bytes.buffer);
    dv.setUint32(trak.start, dv.getUint32(trak.start) + 1000);
    expect(malformedMessage(() => readInitInfo(bytes))).toMatch(
      new RegExp(
        `^trak at offset ${trak.start}: declares \\d+ bytes but only \\d+ remain in moov at offset ${moov.start}`,
      ),
    );
  });

  it('a tenc whose constant IV runs past its end (protected header)', async () => {
    const key = await new LocalKeyStore().getKey('t', 'video', 0);
    const { init } = protectInit(video.init, { scheme: 'cbcs', key, constantIv: new Uint8Array(16).fill(7) });
    const sinfPath = [...STSD, 'encv'];
    const [encv] = chain(init, sinfPath).slice(-1);
    const sinf = readBoxes(init, encv.payload + 78, encv.end, encv).find((b) => b.type === 'sinf')!;
    const schi = children(init, sinf).find((b) => b.type === 'schi')!;
    const tenc = children(init, schi).find((b) => b.type === 'tenc')!;
    const bytes = init.slice();
    bytes[tenc.payload + 24] = 200; // default_constant_IV_size: 200 bytes, 16 present
    expect(malformedMessage(() => readInitInfo(bytes))).toMatch(
      new RegExp(`^tenc at offset ${tenc.start}: default_constant_IV needs 200 bytes`),
    );
    expect(malformedMessage(() => readTrackProtection(bytes))).toMatch(/^tenc at offset \d+: default_constant_IV/);
  });
});

/** The sample entry `entry` with its child `child` replaced by `replacement` (entry size fixed). */
function rebuildEntry(init: Uint8Array, entry: Box, child: Box, replacement: Uint8Array): Uint8Array {
  const body = concat([init.subarray(entry.payload, child.start), replacement, init.subarray(child.end, entry.end)]);
  return box(fourcc(init, entry.start + 4), body);
}

describe('readInitInfo on real headers cut and corrupted: a parse or an AppError, nothing else', () => {
  it('every truncation and every byte set to 0x00, 0x80 and 0xff, clear and protected', async () => {
    const key = await new LocalKeyStore().getKey('t', 'video', 0);
    const inits = [video.init, audio.init];
    for (const scheme of ['cenc', 'cbcs'] as const)
      inits.push(protectInit(video.init, { scheme, key, constantIv: new Uint8Array(16).fill(7) }).init);
    for (const init of inits) {
      for (let n = 0; n < init.byteLength; n++) parsesOrRefuses(() => readInitInfo(init.subarray(0, n)), `cut at ${n}`);
      for (let at = 0; at < init.byteLength; at++) {
        for (const value of [0x00, 0x80, 0xff]) {
          const bad = init.slice();
          bad[at] = value;
          parsesOrRefuses(() => {
            const info = readInitInfo(bad);
            if (info.protection) readTrackProtection(bad);
            else if (info.kind !== 'text') protectInit(bad, { scheme: 'cenc', key });
          }, `byte ${at} = ${value}`);
        }
      }
    }
  });
});
