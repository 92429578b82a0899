/** ffmpeg's view of a CMAF track, for DRM tests: decrypting with the key must give the clear stream's packets. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { concat } from '../packager/bmff/box-writer.ts';
import { FFMPEG } from './fixtures.ts';

const run = promisify(execFile);

/** ffmpeg's per-packet MD5s of init + segment (stream-copied, decrypted when a key is given): only the hash column. */
export async function packetHashes(init: Uint8Array, segment: Uint8Array, keyHex?: string): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'packet-hashes-'));
  try {
    const file = join(dir, 'in.mp4');
    await writeFile(file, concat([init, segment]));
    const { stdout } = await run(
      FFMPEG,
      [
        '-v',
        'error',
        ...(keyHex ? ['-decryption_key', keyHex] : []),
        '-i',
        file,
        '-map',
        '0',
        '-c',
        'copy',
        // Keep packets before the first keyframe: a chunked CMAF part after the first has none.
        '-copyinkf',
        '-f',
        'framemd5',
        '-',
      ],
      { maxBuffer: 64 << 20 },
    );
    return stdout
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(',')[5].trim());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
