import { AppError } from '../contract/errors.ts';
import { tfdtWindow } from '../contract/epoch.ts';
import { readBoxes } from './bmff/box-reader.ts';
import { readFragments, type Fragment } from './fragment-reader.ts';
import type { InitInfo } from './init-info.ts';
import { isSync } from './sample.ts';

/**
 * The fixed defect vocabulary (docs/api.md). A candidate carries these, plus whatever its
 * publisher reported, and the origin prefers candidates with none.
 *
 * - truncated: boxes or samples run past the end of the body. Ingest rejects it (400) because a
 *   player cannot parse it; it is in the vocabulary because publishers may report it.
 * - tfdt-mismatch: the first tfdt is outside [K·D, K·D + one sample), or fragments are not
 *   contiguous (a discontinuity).
 * - short: the samples cover less than D minus one sample duration.
 * - no-sync-start: a video segment whose first sample is not a sync sample (cannot start decoding).
 * - size-mismatch: the mdat payloads do not hold exactly the bytes the trun sample sizes declare.
 * - empty: no samples at all.
 */
export const SEGMENT_DEFECTS = [
  'truncated',
  'tfdt-mismatch',
  'short',
  'no-sync-start',
  'size-mismatch',
  'empty',
] as const;
export type SegmentDefect = (typeof SEGMENT_DEFECTS)[number];

export interface Inspection {
  defects: SegmentDefect[];
  sampleCount: number;
  /** baseMediaDecodeTime of the first fragment (ticks), or NaN when unreadable. */
  firstDts: number;
  durationTicks: number;
  /** The parser's reason when the segment is truncated/unparseable. */
  malformed?: string;
}

/** Inspect CMAF segment K of a track whose header is `init`, for an event with segment duration D. */
export function inspectSegment(bytes: Uint8Array, init: InitInfo, k: number, durationMs: number): Inspection {
  let fragments: Fragment[];
  let mdatBytes = 0;
  try {
    for (const box of readBoxes(bytes)) if (box.type === 'mdat') mdatBytes += box.end - box.payload;
    fragments = readFragments(bytes, init);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return { defects: ['truncated'], sampleCount: 0, firstDts: Number.NaN, durationTicks: 0, malformed: err.message };
  }

  const samples = fragments.flatMap((f) => f.samples);
  if (samples.length === 0)
    return {
      defects: ['empty'],
      sampleCount: 0,
      firstDts: fragments[0]?.baseMediaDecodeTime ?? Number.NaN,
      durationTicks: 0,
    };

  const defects = new Set<SegmentDefect>();
  const firstDts = fragments[0].baseMediaDecodeTime;
  const sampleTicks = samples[0].duration || init.defaultSampleDuration;
  const durationTicks = samples.reduce((sum, s) => sum + s.duration, 0);
  const segmentTicks = (durationMs * init.timescale) / 1000;

  const [lo, hi] = tfdtWindow(k, durationMs, init.timescale, Math.max(sampleTicks, 1));
  if (firstDts < lo || firstDts >= hi) defects.add('tfdt-mismatch');
  for (let i = 1; i < fragments.length; i++) {
    const prev = fragments[i - 1];
    const prevEnd = prev.baseMediaDecodeTime + prev.samples.reduce((sum, s) => sum + s.duration, 0);
    if (fragments[i].baseMediaDecodeTime !== prevEnd) defects.add('tfdt-mismatch');
  }
  if (durationTicks < segmentTicks - sampleTicks) defects.add('short');
  if (init.kind === 'video' && !isSync(samples[0].flags)) defects.add('no-sync-start');
  const declared = samples.reduce((sum, s) => sum + s.data.byteLength, 0);
  if (declared !== mdatBytes) defects.add('size-mismatch');

  return {
    defects: SEGMENT_DEFECTS.filter((d) => defects.has(d)),
    sampleCount: samples.length,
    firstDts,
    durationTicks,
  };
}
