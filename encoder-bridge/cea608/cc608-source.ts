import { spawn, type ChildProcess } from 'node:child_process';
import { demoCueText } from '../synthetic-captions.ts';
import { utcSeiNal } from '../sei-utc.ts';
import { cc608SourceArgs, pictureUtcTicks, type SourceOptions } from '../source-args.ts';
import { a53CcSeiNal } from './a53-sei.ts';
import { AnnexBSeiInserter } from './annexb-sei-inserter.ts';
import { captionSchedule } from './caption-schedule.ts';

/** The demo captions: the synthetic captioner's English cues, every 2 s on the UTC grid. */
export const CC608_INTERVAL_MS = 2000;

/**
 * The synthetic source with CEA-608 on CC1 (`--cc608 on`): encoder → Node (A/53 SEI per
 * picture) → muxer. Returns the muxer, whose stdout is the feed when an output is `pipe:1`.
 * Killing the muxer ends the encoder too (its stdout pipe breaks).
 *
 * With `opts.utcCarrier: 'sei'` every picture also gets its UTC SEI (contract/utc-sei.ts), in the
 * same place; `sei.captions: false` leaves the captions out (the SEI carrier alone).
 */
export function spawnCc608Source(
  ffmpeg: string,
  opts: SourceOptions,
  stdio: { muxOut: 'pipe' | 'inherit' | 'ignore'; stderr?: 'pipe' | 'inherit' | 'ignore' },
  sei: { captions: boolean } = { captions: true },
): { mux: ChildProcess; encoder: ChildProcess } {
  const args = cc608SourceArgs(opts);
  const stderr = stdio.stderr ?? 'inherit';
  const encoder = spawn(ffmpeg, args.video, { stdio: ['ignore', 'pipe', stderr] });
  const mux = spawn(ffmpeg, args.mux, { stdio: ['pipe', stdio.muxOut, stderr] });
  const pairAt = captionSchedule({
    t0: opts.t0,
    fps: opts.fps,
    intervalMs: CC608_INTERVAL_MS,
    textAt: (ms) => demoCueText('en', ms),
  });
  const utc = opts.utcCarrier === 'sei';
  const inserter = new AnnexBSeiInserter((picture) => [
    ...(sei.captions ? [a53CcSeiNal([pairAt(picture)])] : []),
    ...(utc ? [utcSeiNal(pictureUtcTicks(picture, opts))] : []),
  ]);
  const stdin = mux.stdin!;
  stdin.on('error', () => encoder.kill('SIGTERM')); // the muxer went away: stop encoding
  encoder.stdout!.on('data', (chunk: Buffer) => {
    if (!stdin.write(inserter.push(chunk))) {
      encoder.stdout!.pause();
      stdin.once('drain', () => encoder.stdout!.resume());
    }
  });
  encoder.stdout!.on('end', () => stdin.end(inserter.flush()));
  mux.on('exit', () => encoder.kill('SIGTERM'));
  return { mux, encoder };
}
