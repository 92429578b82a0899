import { AppError, errorCodes } from '../contract/errors.ts';
import { corsHeaders } from './cors.ts';

/**
 * The one place an error becomes an HTTP response: JSON `{error: {code, id, message}}`, the status
 * from the vocabulary, the error's own headers (e.g. a Cache-Control that expires when a segment is
 * due) and CORS so browser players can read it. Anything that is not an AppError is a bug: 500,
 * logged here and answered without internals.
 */
export function errorResponse(err: unknown): Response {
  if (!(err instanceof AppError)) console.error('unexpected error', err);
  const appError = err instanceof AppError ? err : new AppError('INTERNAL', 'internal error');
  const { id, status } = errorCodes[appError.code];
  const headers = new Headers({
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...corsHeaders,
  });
  for (const [name, value] of Object.entries(appError.headers)) headers.set(name, value);
  const body = { error: { code: appError.code, id, message: appError.message, ...appError.details } };
  return new Response(JSON.stringify(body), { status, headers });
}
