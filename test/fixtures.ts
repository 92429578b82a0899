/**
 * Real CMAF media for tests, made by ffmpeg and re-cut onto the epoch grid with the project's own
 * packager code: ffmpeg always starts tfdt at 0, so segments are rebuilt with tfdt = K·D·timescale
 * and mfhd sequence = K, exactly what the encoder bridge publishes.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readBoxes } from '../packager/bmff/box-reader.ts';
import { concat } from '../packager/bmff/box-writer.ts';
import { readFragments } from '../packager/fragment-reader.ts';
import { readInitInfo, type InitInfo } from '../packager/init-info.ts';
import type { Sample } from '../packager/sample.ts';
import { writeSegment } from '../packager/segment-writer.ts';

const run = promisify(execFile);
export const FFMPEG = process.env.FFMPEG ?? '/usr/bin/ffmpeg';

export interface Media {
  init: Uint8Array;
  info: InitInfo;
  /** Every sample of the encode, in decode order, with dts from the encode's own timeline. */
  samples: Sample[];
}

export interface EncodeOptions {
  kind: 'video' | 'audio';
  seconds?: number;
  /** Video: WxH. */
  size?: string;
  fps?: number;
  /** Video: frames per GOP (closed GOP, keyframe at every boundary). */
  gop?: number;
  /** Video: encode lossless (big segments, e.g. to exceed the 2 MB storage row cap). */
  lossless?: boolean;
  /** Video: slices per picture (several VCL NAL units per sample). */
  slices?: number;
}

const cache = new Map<string, Promise<Media>>();

/** Encode synthetic media with ffmpeg (cached per options within a test process). */
export function encodeMedia(options: EncodeOptions): Promise<Media> {
  const key = JSON.stringify(options);
  let media = cache.get(key);
  if (!media) {
    media = encode(options);
    cache.set(key, media);
  }
  return media;
}

async function encode(o: EncodeOptions): Promise<Media> {
  const dir = await mkdtemp(join(tmpdir(), 'fixture-'));
  const out = join(dir, 'out.mp4');
  const seconds = String(o.seconds ?? 4.5);
  const fps = o.fps ?? 30;
  const gop = o.gop ?? fps * 2;
  const args =
    o.kind === 'video'
      ? [
          '-f',
          'lavfi',
          '-i',
          `testsrc2=size=${o.size ?? '320x180'}:rate=${fps}`,
          '-t',
          seconds,
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          ...(o.lossless ? ['-qp', '0'] : ['-b:v', '400k']),
          '-pix_fmt',
          'yuv420p',
          ...(o.slices ? ['-x264-params', `slices=${o.slices}`] : []),
          '-g',
          String(gop),
          '-keyint_min',
          String(gop),
          '-sc_threshold',
          '0',
          '-f',
          'mp4',
          '-movflags',
          '+empty_moov+frag_keyframe+default_base_moof',
        ]
      : [
          '-f',
          'lavfi',
          '-i',
          'sine=frequency=440:sample_rate=48000',
          '-t',
          seconds,
          '-c:a',
          'aac',
          '-b:a',
          '96k',
          '-ac',
          '2',
          '-f',
          'mp4',
          '-movflags',
          '+empty_moov+default_base_moof',
          '-frag_duration',
          '2000000',
        ];
  try {
    await run(FFMPEG, ['-v', 'error', '-y', ...args, out]);
    return splitFragmentedMp4(new Uint8Array(await readFile(out)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Split an ffmpeg fragmented MP4 into its CMAF header and all of its samples. */
export function splitFragmentedMp4(file: Uint8Array): Media {
  const boxes = readBoxes(file);
  const headerEnd = boxes.find((b) => b.type === 'moof')?.start ?? file.byteLength;
  const init = file.slice(0, headerEnd);
  const info = readInitInfo(init);
  const samples = readFragments(file, info).flatMap((f) => f.samples.map((s) => ({ ...s, data: s.data.slice() })));
  return { init, info, samples };
}

/**
 * Cut `media` into complete D-long chunks on its own timeline: chunk j starts at the first sample
 * at or after j·D (and, for video, that must be a sync sample, which a GOP of D guarantees).
 */
export function chunks(media: Media, durationMs: number): { offsetTicks: number; samples: Sample[] }[] {
  const d = (durationMs * media.info.timescale) / 1000;
  const out: { offsetTicks: number; samples: Sample[] }[] = [];
  const origin = media.samples[0]?.dts ?? 0;
  for (let j = 0; ; j++) {
    const inChunk = media.samples.filter((s) => s.dts - origin >= j * d && s.dts - origin < (j + 1) * d);
    const complete = media.samples.some((s) => s.dts - origin >= (j + 1) * d);
    if (inChunk.length === 0 || !complete) break;
    out.push({ offsetTicks: inChunk[0].dts - origin - j * d, samples: inChunk });
  }
  return out;
}

export interface SegmentOptions {
  /** Add this many ticks to the tfdt (a wrong-tfdt segment). */
  tfdtShift?: number;
  /** Keep only the first n samples (a short segment). */
  keepSamples?: number;
  /** Drop the first n samples (a segment that does not start on a sync sample). */
  dropSamples?: number;
}

/** CMAF segment K of `media` on the epoch grid (tfdt = K·D·timescale + the chunk's offset). */
export function segmentFor(media: Media, k: number, durationMs: number, opts: SegmentOptions = {}): Uint8Array {
  const all = chunks(media, durationMs);
  if (all.length === 0) throw new Error('media is shorter than one segment');
  const chunk = all[k % all.length];
  let samples = chunk.samples.slice(opts.dropSamples ?? 0);
  if (opts.keepSamples !== undefined) samples = samples.slice(0, opts.keepSamples);
  const skipped = chunk.samples.slice(0, opts.dropSamples ?? 0).reduce((sum, s) => sum + s.duration, 0);
  const d = (durationMs * media.info.timescale) / 1000;
  return writeSegment({
    sequenceNumber: k,
    trackId: media.info.trackId,
    baseMediaDecodeTime: k * d + chunk.offsetTicks + skipped + (opts.tfdtShift ?? 0),
    samples,
  });
}

/** Epoch segment number of "now" for segment duration D. */
export function liveK(durationMs: number, nowMs = Date.now()): number {
  return Math.floor(nowMs / durationMs);
}

export { concat };
