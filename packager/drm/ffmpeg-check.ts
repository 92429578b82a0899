/**
 * Test helpers: decrypt with ffmpeg (an independent CENC implementation) and compare packets, and
 * read our boxes back with mp4box (GPAC's parser). Node-only: imported by tests, never by the
 * runtime code.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { concat } from '../bmff/box-writer.ts';

const run = promisify(execFile);
export const FFMPEG = process.env.FFMPEG ?? '/usr/bin/ffmpeg';

/**
 * ffmpeg's per-packet MD5 of init+segments, stream-copied so that the hashes are of the exact
 * sample bytes (after decryption when a key is given). Timestamps are part of each line.
 */
export async function packetMd5(init: Uint8Array, segments: Uint8Array[], keyHex?: string): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'drm-'));
  try {
    const file = join(dir, 'in.mp4');
    await writeFile(file, concat([init, ...segments]));
    const { stdout } = await run(FFMPEG, ['-v', 'error', ...(keyHex ? ['-decryption_key', keyHex] : []), '-i', file, '-map', '0', '-c', 'copy', '-f', 'framemd5', '-'], {
      maxBuffer: 64 << 20,
    });
    return stdout.split('\n').filter((l) => l && !l.startsWith('#'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Decoded-frame MD5s: proves the decrypted bitstream also decodes identically. */
export async function frameMd5(init: Uint8Array, segments: Uint8Array[], keyHex?: string): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'drm-'));
  try {
    const file = join(dir, 'in.mp4');
    await writeFile(file, concat([init, ...segments]));
    const { stdout } = await run(FFMPEG, ['-v', 'error', ...(keyHex ? ['-decryption_key', keyHex] : []), '-i', file, '-map', '0', '-f', 'framemd5', '-'], {
      maxBuffer: 64 << 20,
    });
    return stdout.split('\n').filter((l) => l && !l.startsWith('#'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
