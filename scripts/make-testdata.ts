/**
 * `npm run testdata`: (re)make the checked-in media under testdata/media/ with ffmpeg. Run it once
 * after changing a fixture's options (test/media-options.ts) and commit the result; unit tests
 * only read these files and never start ffmpeg.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type EncodeOptions, ffmpegArgs, fixtureName } from '../test/media-options.ts';

const FFMPEG = process.env.FFMPEG ?? 'ffmpeg';
const dir = join(import.meta.dirname, '..', 'testdata', 'media');

/** The encodes unit tests use (test/media.ts `loadMedia`). */
export const FIXTURES: EncodeOptions[] = [
  { kind: 'video' },
  { kind: 'audio' },
  { kind: 'video', size: '640x360' },
  { kind: 'video', size: '640x360', slices: 4 },
];

mkdirSync(dir, { recursive: true });
for (const options of FIXTURES) {
  const out = join(dir, fixtureName(options));
  execFileSync(FFMPEG, ['-v', 'error', '-y', ...ffmpegArgs(options), '-fflags', '+bitexact', out], {
    stdio: 'inherit',
  });
  console.log(`${fixtureName(options)}: ${statSync(out).size} bytes`);
}
