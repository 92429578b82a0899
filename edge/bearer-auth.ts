import { AppError } from '../contract/errors.ts';

/**
 * Check `Authorization: Bearer <token>` against the expected secret. A missing header or another
 * scheme is 401 (the client did not authenticate); a wrong token is 403. Both sides are hashed
 * first so the comparison runs over equal-length digests in constant time and leaks neither the
 * token's content nor its length.
 */
export async function requireBearer(
  authorization: string | undefined | null,
  expected: string,
  realm: string,
): Promise<void> {
  const challenge = { 'www-authenticate': `Bearer realm="${realm}"` };
  const match = /^Bearer ([\x21-\x7e]+)$/.exec(authorization?.trim() ?? '');
  if (!match) throw new AppError('UNAUTHORIZED', 'send Authorization: Bearer <token>', challenge);
  if (!expected || !(await constantTimeEqual(match[1], expected))) {
    throw new AppError('FORBIDDEN', 'the bearer token is not valid for this route');
  }
}

export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [da, db] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(a)),
    crypto.subtle.digest('SHA-256', encoder.encode(b)),
  ]);
  const x = new Uint8Array(da);
  const y = new Uint8Array(db);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}
