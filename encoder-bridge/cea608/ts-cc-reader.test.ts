/**
 * The TS caption reader on hand-made packets, for what the ffmpeg feeds of cc1-captions.test.ts
 * do not show: deep B-pyramid reordering, the 33-bit PTS wrap at the end of the feed, a video
 * PID that changes mid-feed (and a second program that must not take over), and payload-unit
 * starts that are not PES at all.
 */
import { describe, expect, it } from 'vitest';
import { a53CcSeiNal } from './a53-sei.ts';
import { withOddParity } from './parity.ts';
import type { CcPair } from './pop-on-encoder.ts';
import { TsCcReader, type PictureCc } from './ts-cc-reader.ts';

const WRAP = 2 ** 33;

function ptsBytes(pts: number): number[] {
  return [
    0x21 | ((Math.floor(pts / 2 ** 30) & 7) << 1),
    Math.floor(pts / 2 ** 22) & 0xff,
    ((Math.floor(pts / 2 ** 15) & 0x7f) << 1) | 1,
    Math.floor(pts / 2 ** 7) & 0xff,
    ((pts % 128) << 1) | 1,
  ];
}

/** One TS packet holding a whole video PES: PTS, an A/53 SEI with `pair`, an IDR slice header byte. */
function picturePacket(pid: number, pts: number, pair: CcPair): Uint8Array {
  const es = [0, 0, 0, 1, ...a53CcSeiNal([pair]), 0, 0, 1, 0x65, 0x88, 0x80];
  return packet(pid, [0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5, ...ptsBytes(pts), ...es]);
}

/** A 188-byte packet starting a payload unit with `payload`, stuffed with an adaptation field. */
function packet(pid: number, payload: number[]): Uint8Array {
  const stuffing = 188 - 4 - 1 - payload.length;
  if (stuffing < 1) throw new Error('payload too long for one packet');
  return Uint8Array.from([
    0x47,
    0x40 | (pid >> 8),
    pid & 0xff,
    0x30,
    stuffing,
    0x00,
    ...new Array<number>(stuffing - 1).fill(0xff),
    ...payload,
  ]);
}

const pairOf = (n: number): CcPair => [withOddParity(0x41 + (n % 26)), withOddParity(0x20)];

function read(
  packets: Uint8Array[],
  opts: { reorderDepth?: number } = {},
): { pictures: PictureCc[]; changes: number[] } {
  const pictures: PictureCc[] = [];
  const changes: number[] = [];
  const reader = new TsCcReader({
    onPicture: (p) => pictures.push(p),
    onStreamChange: (pid) => changes.push(pid),
    ...opts,
  });
  for (const p of packets) reader.push(p);
  reader.flush();
  return { pictures, changes };
}

/** Decode order of a hierarchical-B GOP of n pictures after its I picture: P n, then halves. */
function pyramid(lo: number, hi: number, out: number[] = []): number[] {
  if (hi - lo < 2) return out;
  const mid = (lo + hi) >> 1;
  out.push(mid);
  pyramid(lo, mid, out);
  pyramid(mid, hi, out);
  return out;
}

describe('TS caption reader', () => {
  it('hands out a deep B-pyramid in presentation order (the 4-picture buffer could not)', () => {
    const order = [0, 32, ...pyramid(0, 32), 64, ...pyramid(32, 64)];
    const T = 3003;
    const packets = order.map((n) => picturePacket(0x100, 900_000 + n * T, pairOf(n)));
    const expected = [...order].sort((a, b) => a - b).map((n) => ({ pts: 900_000 + n * T, pairs: [pairOf(n)] }));
    expect(read(packets).pictures).toEqual(expected);
    expect(read(packets, { reorderDepth: 4 }).pictures).not.toEqual(expected);
  });

  it('flushes pictures across the 33-bit wrap in presentation order', () => {
    // Decode order I P B around the wrap: shown before, just after the B, after the wrap.
    const pts = [WRAP - 6006, 1000, WRAP - 3003];
    const { pictures } = read(pts.map((p, i) => picturePacket(0x100, p, pairOf(i))));
    expect(pictures.map((p) => p.pts)).toEqual([WRAP - 6006, WRAP - 3003, 1000]);
  });

  it('follows the video to a new PID once the old one has stopped for 2 s of the new one', () => {
    const T = 3000; // 30 fps
    const before = Array.from({ length: 30 }, (_, n) => picturePacket(0x100, 1_000_000 + n * T, pairOf(n)));
    // A new PMT moved the video to 0x101: 4 s of it, on the same clock.
    const after = Array.from({ length: 120 }, (_, n) => picturePacket(0x101, 1_090_000 + n * T, pairOf(n)));
    const { pictures, changes } = read([...before, ...after]);
    expect(changes).toEqual([0x101]);
    // Everything of the old PID, then the new one from the picture 2 s into it.
    const switchedAt = 1_090_000 + 60 * T;
    expect(pictures.map((p) => p.pts)).toEqual([
      ...before.map((_, n) => 1_000_000 + n * T),
      ...after.map((_, n) => 1_090_000 + n * T).filter((p) => p >= switchedAt),
    ]);
  });

  it('keeps the locked video while another program on another clock also carries video', () => {
    const T = 3000;
    const packets: Uint8Array[] = [];
    for (let n = 0; n < 300; n++) {
      packets.push(picturePacket(0x100, 1_000_000 + n * T, pairOf(n)));
      packets.push(picturePacket(0x200, 5_000_000_000 + n * T, pairOf(n + 1)));
    }
    const { pictures, changes } = read(packets);
    expect(changes).toEqual([]);
    expect(pictures.map((p) => p.pts)).toEqual(Array.from({ length: 300 }, (_, n) => 1_000_000 + n * T));
  });

  it('ignores a payload unit start on the video PID that is not a PES', () => {
    // Bytes that would read as a PES header with a PTS but lack the 00 00 01 start code.
    const junk = packet(0x100, [0xff, 0xff, 0xff, 0xe0, 0, 0, 0x80, 0x80, 5, ...ptsBytes(12345), 0xff]);
    const { pictures } = read([
      picturePacket(0x100, 900_000, pairOf(0)),
      junk,
      picturePacket(0x100, 903_000, pairOf(1)),
    ]);
    expect(pictures.map((p) => p.pts)).toEqual([900_000, 903_000]);
  });
});
