import { z } from 'zod';

/** Identifiers that appear in URLs. Kept strict so a path can never escape its place in storage. */
export const EventId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'event id: 1-63 chars of a-z, 0-9 and "-", starting with a letter or digit');
export const PipelineId = z.string().regex(/^[A-Z]$/, 'pipeline id: one capital letter (A, B, …)');
export const TrackId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'track id: 1-32 chars of a-z, 0-9, "_" and "-"');
export const RegionId = z.string().regex(/^[a-z0-9-]{1,16}$/, 'region id: 1-16 chars of a-z, 0-9 and "-"');
/** Segment numbers are epoch numbers (K = floor(UTC / D)); they fit easily in a double. */
export const SegmentNumber = z.coerce.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
