/**
 * The SEI inserter on real x264 output (several slices per picture, as -tune zerolatency makes
 * them): one SEI per picture however the stream is chunked, even one byte at a time, so start
 * codes cut by a pipe read are never missed or counted twice.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { AnnexBSeiInserter } from './annexb-sei-inserter.ts';

const h264 = new Uint8Array(
  execFileSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x180:rate=30',
      '-frames:v',
      '20',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-threads',
      '4',
      '-f',
      'h264',
      'pipe:1',
    ],
    { maxBuffer: 1 << 24 },
  ),
);
const sei = (n: number) => Uint8Array.of(0x06, 0x05, 0x01, n, 0x80); // a tiny SEI naming the picture

function run(chunkSizes: number[]): Uint8Array {
  const inserter = new AnnexBSeiInserter(sei);
  const parts: Uint8Array[] = [];
  for (let o = 0, i = 0; o < h264.length; i++) {
    const size = chunkSizes[i % chunkSizes.length];
    parts.push(inserter.push(h264.subarray(o, o + size)));
    o += size;
  }
  parts.push(inserter.flush());
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

describe('Annex B SEI inserter', () => {
  it('puts one SEI before the first slice of every picture, however the stream is chunked', () => {
    // x264 cut each picture into several slices here: only the first may get the SEI.
    expect(
      Buffer.from(h264)
        .toString('hex')
        .match(/000001(65|41)/g)!.length,
    ).toBeGreaterThan(20);
    const whole = run([h264.length]);
    // Picture n's SEI is in the stream, in order, and the H.264 still decodes to 20 pictures.
    const hex = Buffer.from(whole).toString('hex');
    for (let n = 0; n < 20; n++) expect(hex).toContain(`00000001060501${n.toString(16).padStart(2, '0')}80`);
    expect(hex.split('00000001060501').length - 1).toBe(20);
    const frames = execFileSync(
      'ffprobe',
      [
        '-v',
        'error',
        '-f',
        'h264',
        '-count_frames',
        '-show_entries',
        'stream=nb_read_frames',
        '-of',
        'csv=p=0',
        'pipe:0',
      ],
      { input: whole, encoding: 'utf8' },
    );
    expect(frames.trim()).toBe('20');
    for (const sizes of [[1], [2, 3, 5, 7], [188, 4096]])
      expect(Buffer.from(run(sizes)).equals(Buffer.from(whole)), `chunks ${sizes}`).toBe(true);
  });
});
