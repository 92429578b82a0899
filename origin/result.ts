import { AppError, type ErrorCode } from '../contract/errors.ts';
import type { OriginFact } from '../contract/origin-facts.ts';

/**
 * What an origin RPC method returns. Errors travel as values, not exceptions: an exception thrown
 * across Durable Object RPC keeps only its message, and the edge needs the code and headers
 * (e.g. the Cache-Control of a 404 that expires when the segment is due).
 */
export type OriginResult<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      code: ErrorCode;
      message: string;
      headers?: Record<string, string>;
      /** What the refusal means for caching: the edge's answer policy decides the TTL from it. */
      fact?: OriginFact;
    };

export const ok = <T>(value: T): OriginResult<T> => ({ ok: true, value });

export const fail = (code: ErrorCode, message: string, headers?: Record<string, string>): OriginResult<never> => ({
  ok: false,
  code,
  message,
  headers,
});

/** At the edge: the value, or the AppError the result stands for. */
export function unwrap<T>(result: OriginResult<T>): T {
  if (result.ok) return result.value;
  throw new AppError(result.code, result.message, result.headers);
}
