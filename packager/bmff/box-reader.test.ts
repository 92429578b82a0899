import { describe, expect, it } from 'vitest';
import { AppError } from '../../contract/errors.ts';
import { BoxFields, children, MAX_BOXES_PER_CONTAINER, readBoxes } from './box-reader.ts';
import { box, concat, str, u32, u64 } from './box-writer.ts';

/** The MEDIA_MALFORMED message `fn` throws (fails the test on anything else, e.g. a RangeError). */
function malformedMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('MEDIA_MALFORMED');
    return (err as AppError).message;
  }
  throw new Error('expected MEDIA_MALFORMED, nothing was thrown');
}

/** A box header with any size: [size][type], then `payload` as is. */
function rawBox(size: number, type: string, ...payload: Uint8Array[]): Uint8Array {
  return concat([u32(size), str(type), ...payload]);
}

describe('readBoxes', () => {
  it('reads 32-bit, 64-bit (size 1) and to-the-end (size 0) sizes', () => {
    const large = concat([u32(1), str('free'), u64(20), new Uint8Array(4)]);
    const bytes = concat([box('ftyp', str('cmfc')), large, rawBox(0, 'mdat', new Uint8Array(5))]);
    expect(readBoxes(bytes)).toEqual([
      { type: 'ftyp', start: 0, end: 12, payload: 8 },
      { type: 'free', start: 12, end: 32, payload: 28 },
      { type: 'mdat', start: 32, end: 45, payload: 40 },
    ]);
  });

  it('names the box and its offset when a size runs past the end (truncated upload)', () => {
    const bytes = concat([box('styp', str('cmfs')), rawBox(1000, 'mdat', new Uint8Array(10))]);
    expect(malformedMessage(() => readBoxes(bytes))).toBe(
      'mdat at offset 12: declares 1000 bytes but only 18 remain (truncated?)',
    );
  });

  it('refuses a size smaller than the header, and 64-bit sizes that are truncated or huge', () => {
    expect(malformedMessage(() => readBoxes(rawBox(4, 'moof', new Uint8Array(8))))).toBe(
      'moof at offset 0: declares size 4, smaller than its 8-byte header',
    );
    expect(malformedMessage(() => readBoxes(rawBox(1, 'mdat', new Uint8Array(4))))).toBe(
      'mdat at offset 0: truncated 64-bit size',
    );
    const huge = concat([u32(1), str('mdat'), u64(2n ** 63n), new Uint8Array(8)]);
    expect(malformedMessage(() => readBoxes(huge))).toBe(
      'mdat at offset 0: declares 9223372036854775808 bytes (64-bit size) but only 24 remain (truncated?)',
    );
    // A 64-bit size smaller than its 16-byte header.
    const small = concat([u32(1), str('free'), u64(12), new Uint8Array(8)]);
    expect(malformedMessage(() => readBoxes(small))).toMatch(
      /^free at offset 0: declares size 12, smaller than its 16/,
    );
  });

  it('names the parent when a child is bigger than it (nested overflow), even with bytes after it', () => {
    const traf = rawBox(200, 'traf', new Uint8Array(8));
    const moof = concat([u32(8 + traf.byteLength), str('moof'), traf]);
    // The mdat after the moof holds the 200 bytes the traf claims: they are the neighbour's, not the traf's.
    const bytes = concat([moof, box('mdat', new Uint8Array(300))]);
    const [top] = readBoxes(bytes);
    expect(malformedMessage(() => children(bytes, top))).toBe(
      'traf at offset 8: declares 200 bytes but only 16 remain in moof at offset 0 (truncated?)',
    );
  });

  it('refuses trailing bytes too short for a header and types that are not printable', () => {
    expect(malformedMessage(() => readBoxes(concat([box('free'), new Uint8Array(3)])))).toBe(
      'box at offset 8: 3 trailing bytes are too short for a box header',
    );
    const garbage = new TextEncoder().encode('this is not an ISO-BMFF file');
    // Printable, so it reads as a box called ' is ' whose size (the bytes "this") is far too big.
    expect(malformedMessage(() => readBoxes(garbage))).toMatch(/^' is ' at offset 0: declares 1952999795 bytes/);
    expect(malformedMessage(() => readBoxes(rawBox(8, '\u0000\u0001ab')))).toBe(
      'box at offset 0: not an ISO-BMFF box (type is not printable)',
    );
  });

  // What it costs is a benchmark's question, not a test's: the test proves the bound holds.
  it(`stops at ${MAX_BOXES_PER_CONTAINER} boxes in one container`, () => {
    const empty = box('free');
    const bytes = new Uint8Array(empty.byteLength * (MAX_BOXES_PER_CONTAINER + 1));
    for (let i = 0; i <= MAX_BOXES_PER_CONTAINER; i++) bytes.set(empty, i * empty.byteLength);
    expect(malformedMessage(() => readBoxes(bytes))).toBe(
      `box at offset ${MAX_BOXES_PER_CONTAINER * 8}: more than ${MAX_BOXES_PER_CONTAINER} boxes`,
    );
  });

  it('children: the box must hold the fields before its children', () => {
    const bytes = box('stsd', new Uint8Array(4));
    const [stsd] = readBoxes(bytes);
    expect(malformedMessage(() => children(bytes, stsd, 8))).toBe(
      'stsd at offset 0: is 12 bytes, too short for its 8 bytes of fields before its boxes',
    );
  });
});

describe('BoxFields', () => {
  it('reads fields in order inside the box', () => {
    const bytes = box('tfhd', u32(0x020000), u32(7), u64(2n ** 40n), str('avc1'));
    const f = new BoxFields(bytes, readBoxes(bytes)[0]);
    expect(f.versionAndFlags()).toEqual({ version: 0, flags: 0x020000 });
    expect(f.u32('track_ID')).toBe(7);
    expect(f.u64('base')).toBe(2 ** 40);
    expect(f.fourcc('format')).toBe('avc1');
    expect(f.remaining).toBe(0);
  });

  it("never reads the next box's bytes: a field past the box's end is MEDIA_MALFORMED naming it", () => {
    // tfdt version 1 needs 8 bytes of time, this one has 4; the mdat after it has plenty.
    const bytes = concat([box('tfdt', u32(0x01000000), u32(5)), box('mdat', new Uint8Array(64))]);
    const [tfdt] = readBoxes(bytes);
    const f = new BoxFields(bytes, tfdt);
    f.versionAndFlags();
    expect(malformedMessage(() => f.u64('baseMediaDecodeTime'))).toBe(
      'tfdt at offset 0: baseMediaDecodeTime needs 8 bytes at offset 12 but the box ends at 16 (4 left)',
    );
    expect(malformedMessage(() => new BoxFields(bytes, tfdt, 12))).toMatch(/^tfdt at offset 0: its leading fields/);
    expect(malformedMessage(() => f.bytesOf(5, 'kid'))).toMatch(/^tfdt at offset 0: kid needs 5 bytes/);
  });
});
