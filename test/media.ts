/**
 * Real CMAF media for tests, runtime-agnostic (Node and workerd): checked-in ffmpeg encodes from
 * `testdata/media/` (made by `npm run testdata`), re-cut onto the epoch grid with the project's
 * own packager code. ffmpeg always starts tfdt at 0, so segments are rebuilt with
 * tfdt = K·D·timescale and mfhd sequence = K, exactly what the encoder bridge publishes.
 */
import { partOf } from '../contract/part-grid.ts';
import { readBoxes } from '../packager/bmff/box-reader.ts';
import { concat } from '../packager/bmff/box-writer.ts';
import { readFragments } from '../packager/fragment-reader.ts';
import { type InitInfo, readInitInfo } from '../packager/init-info.ts';
import type { Sample } from '../packager/sample.ts';
import { writeSegment } from '../packager/segment-writer.ts';
import { type EncodeOptions, fixtureName } from './media-options.ts';

export { concat, type EncodeOptions, fixtureName };

export interface Media {
  init: Uint8Array;
  info: InitInfo;
  /** Every sample of the encode, in decode order, with dts from the encode's own timeline. */
  samples: Sample[];
}

// Loaded lazily through the `?base64` import of vitest.config.ts, so a test pays only for the
// files it uses and the same code runs inside workerd, where there is no file system.
// (A function, so that plain Node, which has no import.meta.glob, can still import this module.)
const testdataFiles = () => import.meta.glob<string>('../testdata/media/*', { query: '?base64', import: 'default' });

/** The bytes of `testdata/media/<name>`; fails with the command that makes it when it is missing. */
export async function testdataFile(name: string): Promise<Uint8Array> {
  const load = testdataFiles()[`../testdata/media/${name}`];
  if (!load) throw new Error(`testdata/media/${name} is missing: run \`npm run testdata\` and commit it`);
  const binary = atob(await load());
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const cache = new Map<string, Promise<Media>>();

/** The checked-in encode made with these options (see scripts/make-testdata.ts), split into init and samples. */
export function loadMedia(options: EncodeOptions): Promise<Media> {
  const name = fixtureName(options);
  let media = cache.get(name);
  if (!media) {
    media = testdataFile(name).then(splitFragmentedMp4);
    cache.set(name, media);
  }
  return media;
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

/**
 * Segment K of `media` cut into its `parts` chunked CMAF parts on the epoch grid, as the encoder
 * bridge cuts them (contract/part-grid.ts): part n holds the samples whose decode time falls in it.
 */
export function partsFor(media: Media, k: number, durationMs: number, parts: number): Uint8Array[] {
  const T = (durationMs * media.info.timescale) / 1000;
  const samples = readFragments(segmentFor(media, k, durationMs), media.info).flatMap((f) => f.samples);
  const groups: (typeof samples)[] = Array.from({ length: parts }, () => []);
  for (const s of samples) groups[partOf(s.dts, T, parts).n].push(s);
  return groups.map((g, n) =>
    writeSegment({
      sequenceNumber: k * parts + n,
      trackId: media.info.trackId,
      baseMediaDecodeTime: g[0].dts,
      samples: g,
    }),
  );
}

/** Epoch segment number of "now" for segment duration D. */
export function liveK(durationMs: number, nowMs = Date.now()): number {
  return Math.floor(nowMs / durationMs);
}

/**
 * `media` (H.264, 4-byte NAL lengths) with a filler-data NAL unit (type 12) of `bytes` appended to
 * every sample: still a valid stream, as big as a test needs (e.g. past the 2 MB storage row cap)
 * without a big file in the repository.
 */
export function withFiller(media: Media, bytes: number): Media {
  const filler = new Uint8Array(4 + bytes).fill(0xff);
  new DataView(filler.buffer).setUint32(0, bytes);
  filler[4] = 0x0c;
  filler[filler.length - 1] = 0x80; // rbsp_trailing_bits
  return { ...media, samples: media.samples.map((s) => ({ ...s, data: concat([s.data, filler]) })) };
}
