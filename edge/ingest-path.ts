import type { z } from 'zod';
import { AppError } from '../contract/errors.ts';
import { EventId, PipelineId, SegmentNumber, TrackId } from '../contract/ids.ts';

export type IngestTarget =
  | { event: string; pipeline: string; track: string; kind: 'init' }
  | { event: string; pipeline: string; track: string; kind: 'segment'; k: number }
  | { event: string; pipeline: string; track: string; kind: 'part'; k: number; n: number }
  | { event: string; pipeline: string; track: string; kind: 'captions'; k: number };

const FILE_RULE =
  'file name: "init.mp4", "{K}.m4s" or (caption tracks) "{K}.vtt" with K a non-negative integer segment number, or "{K}.{n}.m4s" for part n (below 64) of segment K';

/** Parts per segment are a handful (docs/latency.md); this bounds what a path may name. */
export const MAX_PART_INDEX = 63;

/** Validate one path part with its contract schema; a failure names the part and its rule. */
export function pathPart<T>(schema: z.ZodType<T>, value: string | undefined, part: string): T {
  const parsed = schema.safeParse(value ?? '');
  if (!parsed.success) {
    const rule = parsed.error.issues[0]?.message ?? 'invalid';
    throw new AppError('BAD_PATH', `${part} "${value ?? ''}" is invalid: ${rule}`);
  }
  return parsed.data;
}

/** Parse `{event}/{pipeline}/{track}/{file}` (the part after /ingest/). */
export function parseIngestPath(rest: string): IngestTarget {
  const parts = rest.split('/');
  if (parts.length !== 4) {
    throw new AppError(
      'BAD_PATH',
      `ingest path must be /ingest/{event}/{pipeline}/{track}/{init.mp4|K.m4s|K.vtt}; got ${parts.length} parts after /ingest/`,
    );
  }
  const [rawEvent, rawPipeline, rawTrack, file] = parts.map((p) => safeDecode(p));
  const event = pathPart(EventId, rawEvent, 'event');
  const pipeline = pathPart(PipelineId, rawPipeline, 'pipeline');
  const track = pathPart(TrackId, rawTrack, 'track');
  if (file === 'init.mp4') return { event, pipeline, track, kind: 'init' };
  const part = /^(\d{1,16})\.(\d{1,2})\.m4s$/.exec(file);
  if (part) {
    const n = Number(part[2]);
    if (n > MAX_PART_INDEX) throw new AppError('BAD_PATH', `file "${file}" is invalid: ${FILE_RULE}`);
    return { event, pipeline, track, kind: 'part', k: pathPart(SegmentNumber, part[1], 'segment number'), n };
  }
  const segment = /^(\d{1,16})\.(m4s|vtt)$/.exec(file);
  if (!segment) throw new AppError('BAD_PATH', `file "${file}" is invalid: ${FILE_RULE}`);
  const k = pathPart(SegmentNumber, segment[1], 'segment number');
  return { event, pipeline, track, kind: segment[2] === 'vtt' ? 'captions' : 'segment', k };
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new AppError('BAD_PATH', `path part "${part}" is not valid percent-encoding`);
  }
}
