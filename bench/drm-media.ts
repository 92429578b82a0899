/**
 * What both DRM benchmarks (packager/drm/bench.ts in Node, bench/drm-workerd.ts in workerd) share:
 * the 1080p segment set made by ffmpeg, and the baselines outside JavaScript (openssl speed and
 * ffmpeg's own CENC muxing of the same media).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeSegment } from '../packager/segment-writer.ts';
import { chunks, splitFragmentedMp4, type Media } from '../test/fixtures.ts';

const run = promisify(execFile);
export const FFMPEG = process.env.FFMPEG ?? '/usr/bin/ffmpeg';
export const D = 2000;

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

export interface Track {
  media: Media;
  /** The fragmented MP4 ffmpeg wrote (input of the ffmpeg baseline). */
  file: string;
  /** Clear CMAF segments of D ms, as the bridge publishes them. */
  segments: Uint8Array[];
}

/** 1080p30 H.264 at 6 Mb/s (GOP 2 s) or AAC 128 kb/s, `seconds` long, cut into 2 s segments. */
export async function encodeTrack(dir: string, kind: 'video' | 'audio', seconds: number): Promise<Track> {
  const file = join(dir, `${kind}.mp4`);
  const args =
    kind === 'video'
      ? [
          '-f',
          'lavfi',
          '-i',
          `testsrc2=size=1920x1080:rate=30`,
          '-t',
          String(seconds),
          '-c:v',
          'libx264',
          '-preset',
          'veryfast',
          '-b:v',
          '6M',
          '-pix_fmt',
          'yuv420p',
          '-g',
          '60',
          '-keyint_min',
          '60',
          '-sc_threshold',
          '0',
          '-movflags',
          '+empty_moov+frag_keyframe+default_base_moof',
        ]
      : [
          '-f',
          'lavfi',
          '-i',
          'sine=frequency=440:sample_rate=48000',
          '-t',
          String(seconds),
          '-c:a',
          'aac',
          '-b:a',
          '128k',
          '-ac',
          '2',
          '-movflags',
          '+empty_moov+default_base_moof',
          '-frag_duration',
          '2000000',
        ];
  await run(FFMPEG, ['-v', 'error', '-y', ...args, '-f', 'mp4', file]);
  const media = splitFragmentedMp4(new Uint8Array(await readFile(file)));
  const d = (D * media.info.timescale) / 1000;
  const segments = chunks(media, D).map((c, k) =>
    writeSegment({
      sequenceNumber: k,
      trackId: media.info.trackId,
      baseMediaDecodeTime: k * d + c.offsetTicks,
      samples: c.samples,
    }),
  );
  return { media, file, segments };
}

/** `openssl speed -evp <cipher>` on 16 KiB blocks, MB/s, median of `runs`. */
export async function opensslSpeed(cipher: string, runs = 3): Promise<number> {
  const rates: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { stdout } = await run('openssl', ['speed', '-seconds', '2', '-bytes', '16384', '-evp', cipher], {
      maxBuffer: 1 << 20,
    });
    // Last line: "<cipher>  <k bytes/s for 16384-byte blocks>k"
    const line = stdout.trim().split('\n').pop()!;
    rates.push((Number(line.trim().split(/\s+/).pop()!.replace(/k$/, '')) * 1000) / 1e6);
  }
  return median(rates);
}

/**
 * ffmpeg muxing the same media, MB/s of input, wall time including process start, median of
 * `runs`: without encryption and with `-encryption_scheme cenc-aes-ctr`. ffmpeg 5.1 cannot
 * CENC-encrypt fragmented output (it writes no senc/saiz), so both write a progressive MP4.
 */
export async function ffmpegMux(
  dir: string,
  files: string[],
  keyHex: string,
  kidHex: string,
  runs: number,
): Promise<{ copy: number; cenc: number }> {
  const inputBytes = (await Promise.all(files.map((f) => readFile(f)))).reduce((n, b) => n + b.byteLength, 0);
  const time = async (extra: string[]) => {
    const times: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const t0 = performance.now();
      for (const f of files)
        await run(FFMPEG, ['-v', 'error', '-y', '-i', f, '-c', 'copy', ...extra, '-f', 'mp4', join(dir, 'out.mp4')]);
      if (i > 0) times.push(performance.now() - t0); // the first run warms the page cache
    }
    return mbps(inputBytes, median(times));
  };
  return {
    copy: await time([]),
    cenc: await time(['-encryption_scheme', 'cenc-aes-ctr', '-encryption_key', keyHex, '-encryption_kid', kidHex]),
  };
}
