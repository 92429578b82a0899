import { type Cmcd, fromCmcdHeaders, fromCmcdQuery } from '@svta/cml-cmcd';

/**
 * Common Media Client Data (CTA-5004) a player sent with one request: in the `CMCD=` query
 * parameter or in the CMCD-Request / -Object / -Status / -Session headers, decoded by the SVTA
 * library (v1 scalars such as `br` up-converted to v2 lists, so both read the same). CMCD only
 * feeds the viewer counters (edge/cmcd-tally.ts): it never reaches a cache key, and a request
 * whose CMCD does not parse is answered like any other.
 */
export type CmcdReading = { state: 'absent' } | { state: 'malformed' } | { state: 'present'; data: Cmcd };

const HEADERS = ['cmcd-request', 'cmcd-object', 'cmcd-status', 'cmcd-session'];

export function readCmcd(request: Request): CmcdReading {
  const query = new URL(request.url).searchParams;
  const inQuery = query.has('CMCD');
  const inHeaders = HEADERS.some((h) => request.headers.has(h));
  if (!inQuery && !inHeaders) return { state: 'absent' };
  try {
    const data: Cmcd = {
      ...(inHeaders ? fromCmcdHeaders(request.headers, { convertToLatest: true }) : {}),
      ...(inQuery ? fromCmcdQuery(query, { convertToLatest: true }) : {}),
    };
    return { state: 'present', data };
  } catch {
    return { state: 'malformed' };
  }
}

/** The first number of a CMCD v2 inner list (`br=(3000)`, or v1 `br=3000` up-converted). */
export function firstNumber(value: unknown): number | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  const n = typeof first === 'object' && first !== null && 'value' in first ? first.value : first;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}
