/**
 * Media fixtures for Node tests: the checked-in encode from `testdata/media/` when there is one
 * (test/media.ts), otherwise a fresh ffmpeg encode (end-to-end tests and benchmarks only: big or
 * one-off media that does not belong in the repository).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ffmpegArgs } from './media-options.ts';
import { type EncodeOptions, fixtureName, type Media, splitFragmentedMp4 } from './media.ts';

export * from './media.ts';

const run = promisify(execFile);
export const FFMPEG = process.env.FFMPEG ?? '/usr/bin/ffmpeg';

const cache = new Map<string, Promise<Media>>();

/** The checked-in encode for these options, or a fresh ffmpeg encode (cached per process). */
export function encodeMedia(options: EncodeOptions): Promise<Media> {
  const key = JSON.stringify(options);
  let media = cache.get(key);
  if (!media) {
    const file = new URL(`../testdata/media/${fixtureName(options)}`, import.meta.url);
    media = existsSync(file) ? readFile(file).then((b) => splitFragmentedMp4(new Uint8Array(b))) : encode(options);
    cache.set(key, media);
  }
  return media;
}

async function encode(o: EncodeOptions): Promise<Media> {
  const dir = await mkdtemp(join(tmpdir(), 'fixture-'));
  const out = join(dir, 'out.mp4');
  try {
    await run(FFMPEG, ['-v', 'error', '-y', ...ffmpegArgs(o), out]);
    return splitFragmentedMp4(new Uint8Array(await readFile(out)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
