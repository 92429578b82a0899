import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readBoxes } from '../packager/bmff/box-reader.ts';
import { box, concat, u32 } from '../packager/bmff/box-writer.ts';
import { BoxStream, joined } from './box-stream.ts';

/** A real fragmented MP4 as ffmpeg writes it (ftyp, moov, then moof/mdat pairs). */
const file = new Uint8Array(readFileSync('testdata/media/video-640x360-30fps-4.5s.mp4'));
const expected = readBoxes(file).map((b) => ({ type: b.type, bytes: file.subarray(b.start, b.end) }));

function pushInChunks(bytes: Uint8Array, sizes: () => number) {
  const stream = new BoxStream();
  const out: { type: string; bytes: Uint8Array }[] = [];
  for (let p = 0; p < bytes.length; ) {
    const n = Math.min(sizes(), bytes.length - p);
    out.push(...stream.push(bytes.slice(p, p + n))); // a fresh buffer per read, as a pipe gives
    p += n;
  }
  return out;
}

describe('BoxStream', () => {
  it('gives the same top-level boxes however the stream is cut', () => {
    expect(expected.map((b) => b.type).slice(0, 4)).toEqual(['ftyp', 'moov', 'moof', 'mdat']);
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return 1 + (seed % 70_000);
    };
    for (const sizes of [() => 1, () => 7, () => 188, () => 4096, () => 65_536, random]) {
      const got = pushInChunks(file, sizes);
      expect(got.map((b) => b.type)).toEqual(expected.map((b) => b.type));
      got.forEach((b, i) => expect(Buffer.from(b.bytes).equals(Buffer.from(expected[i].bytes))).toBe(true));
    }
  });

  it('hands out a box that arrived inside one chunk as a view of it, not a copy', () => {
    const stream = new BoxStream();
    const chunk = file.slice(0, expected[0].bytes.length + expected[1].bytes.length + 10);
    const [ftyp, moov] = stream.push(chunk);
    expect([ftyp.type, moov.type]).toEqual(['ftyp', 'moov']);
    expect(ftyp.bytes.buffer).toBe(chunk.buffer);
    expect(moov.bytes.byteOffset).toBe(chunk.byteOffset + ftyp.bytes.length);
  });

  it('reads a 64-bit box size, also when its header is cut', () => {
    const payload = new Uint8Array(20).fill(9);
    const large = concat([u32(1), new TextEncoder().encode('mdat'), u32(0), u32(16 + 20), payload]);
    const stream = concat([box('free', u32(5)), large, box('skip')]);
    for (const cut of [1, 3, 9, 12, 17, 20, 31]) {
      const got = pushInChunks(stream, () => cut);
      expect(got.map((b) => [b.type, b.bytes.length])).toEqual([
        ['free', 12],
        ['mdat', 36],
        ['skip', 8],
      ]);
    }
  });

  it('refuses a stream that is not boxes', () => {
    expect(() => new BoxStream().push(concat([u32(4), new TextEncoder().encode('junk')]))).toThrow(/not a box stream/);
  });
});

describe('joined', () => {
  it('is a view when the second part follows the first in the same buffer, else a copy; same bytes either way', () => {
    const buf = file.slice(0, 100);
    const view = joined(buf.subarray(10, 30), buf.subarray(30, 60));
    expect(view.buffer).toBe(buf.buffer);
    expect([view.byteOffset, view.length]).toEqual([10, 50]);
    const copy = joined(buf.subarray(10, 30), buf.subarray(31, 61));
    expect(copy.buffer).not.toBe(buf.buffer);
    expect([...copy]).toEqual([...buf.subarray(10, 30), ...buf.subarray(31, 61)]);
  });
});
