import { z } from 'zod';
import { AppError } from '../contract/errors.ts';

/**
 * The low-latency query of a media playlist request (docs/latency.md, RFC 8216bis §6.2.5):
 * `latency=low` picks the LL-HLS playlist (standard stays the default), `_HLS_msn` / `_HLS_part`
 * ask for a blocking reload, `_HLS_skip=YES|v2` for a delta update. Anything malformed is 400
 * BAD_QUERY, and so is `_HLS_part` without `_HLS_msn` (§6.2.5.2).
 */
export interface LowLatencyQuery {
  lowLatency: boolean;
  msn?: number;
  part?: number;
  skip: boolean;
}

const Count = z
  .string()
  .regex(/^\d{1,16}$/, 'a non-negative integer')
  .transform(Number);
const Query = z.object({
  latency: z.enum(['low', 'standard']).optional(),
  _HLS_msn: Count.optional(),
  _HLS_part: Count.optional(),
  _HLS_skip: z.enum(['YES', 'v2']).optional(),
});

export function parseLowLatencyQuery(params: URLSearchParams): LowLatencyQuery {
  // The standard playlist checks only `latency`; the _HLS_* rules are the low-latency playlist's.
  const names = params.get('latency') === 'low' ? ['latency', '_HLS_msn', '_HLS_part', '_HLS_skip'] : ['latency'];
  const raw = Object.fromEntries(
    names.flatMap((name) => {
      const value = params.get(name);
      return value === null ? [] : [[name, value]];
    }),
  );
  const parsed = Query.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError('BAD_QUERY', `${issue.path.join('.')} is invalid: ${issue.message}`);
  }
  const q = parsed.data;
  const skip = ['YES', 'v2'].includes(params.get('_HLS_skip') ?? '');
  // The standard playlist does not advertise CAN-BLOCK-RELOAD: like any such server it ignores
  // _HLS_msn and _HLS_part (and reads _HLS_skip as it always did).
  if (q.latency !== 'low') return { lowLatency: false, skip };
  if (q._HLS_part !== undefined && q._HLS_msn === undefined)
    throw new AppError('BAD_QUERY', '_HLS_part needs _HLS_msn (RFC 8216bis §6.2.5.2)');
  return { lowLatency: true, msn: q._HLS_msn, part: q._HLS_part, skip };
}

/** The part of the edge cache key this query shapes: one entry (and one origin wait) per (msn, part, skip). */
export function lowLatencyKey(q: LowLatencyQuery): string {
  if (!q.lowLatency) return q.skip ? '?skip' : '';
  return `?ll${q.msn !== undefined ? `&msn=${q.msn}` : ''}${q.part !== undefined ? `&part=${q.part}` : ''}${q.skip ? '&skip' : ''}`;
}
