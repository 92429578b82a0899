import { AppError, type ErrorCode } from '../contract/errors.ts';
import type { OriginFact } from '../contract/origin-facts.ts';

/**
 * What an origin RPC method returns. Errors travel as values, not exceptions: an exception thrown
 * across Durable Object RPC keeps only its message, and the edge needs the code, the fact (e.g.
 * "not yet, due at T", from which the edge's answer policy makes the 404's TTL) and the event
 * state header. The origin never picks a status or a Cache-Control.
 */
export type OriginResult<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      code: ErrorCode;
      message: string;
      /** What the refusal means for caching: the edge's answer policy decides the TTL from it. */
      fact?: OriginFact;
      /** Only `x-event-state`. */
      headers?: Record<string, string>;
    };

export const ok = <T>(value: T): OriginResult<T> => ({ ok: true, value });

export const fail = (
  code: ErrorCode,
  message: string,
  fact?: OriginFact,
  headers?: Record<string, string>,
): OriginResult<never> => ({ ok: false, code, message, fact, headers });

/** At the edge: the value, or the AppError the result stands for. */
export function unwrap<T>(result: OriginResult<T>): T {
  if (result.ok) return result.value;
  throw new AppError(result.code, result.message, result.headers);
}
