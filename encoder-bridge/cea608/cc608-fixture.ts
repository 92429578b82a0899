import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCc608Source } from './cc608-source.ts';

/**
 * A real feed for tests: the synthetic source with `--cc608 on`, `seconds` long at a small size,
 * written as fast as ffmpeg can (no -re) to a TS file. t0 is a whole second near now, as the
 * source picks it, so PTS wrap and unwrap exactly as in a live run.
 */
export async function writeCc608Feed(opts: { fps: string; seconds: number }): Promise<{ file: string; t0: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'cc608-'));
  const file = join(dir, 'feed.ts');
  const t0 = Math.ceil(Date.now() / 1000);
  const { mux } = spawnCc608Source(
    'ffmpeg',
    { t0, fps: opts.fps, size: '320x180', push: [file], durationSeconds: opts.seconds, realtime: false },
    { muxOut: 'ignore', stderr: 'pipe' },
  );
  let stderr = '';
  mux.stderr!.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => mux.on('exit', resolve));
  if (code !== 0) throw new Error(`cc608 source exited ${code}: ${stderr}`);
  return { file, t0 };
}
