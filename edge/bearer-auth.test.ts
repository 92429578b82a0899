import { describe, expect, it } from 'vitest';
import type { AppError } from '../contract/errors.ts';
import { constantTimeEqual, requireBearer } from './bearer-auth.ts';

const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: AppError) => e.code,
  );

describe('requireBearer', () => {
  it('accepts the right token', async () => {
    expect(await codeOf(requireBearer('Bearer s3cret', 's3cret', 'ingest'))).toBe('ok');
  });
  it('is 401 without a header or with another scheme', async () => {
    expect(await codeOf(requireBearer(undefined, 's3cret', 'ingest'))).toBe('UNAUTHORIZED');
    expect(await codeOf(requireBearer('Basic czNjcmV0', 's3cret', 'ingest'))).toBe('UNAUTHORIZED');
    expect(await codeOf(requireBearer('Bearer ', 's3cret', 'ingest'))).toBe('UNAUTHORIZED');
  });
  it('is 403 with a wrong token, including a prefix of the right one', async () => {
    expect(await codeOf(requireBearer('Bearer s3cre', 's3cret', 'ingest'))).toBe('FORBIDDEN');
    expect(await codeOf(requireBearer('Bearer nope', 's3cret', 'ingest'))).toBe('FORBIDDEN');
  });
  it('never accepts when no secret is configured', async () => {
    expect(await codeOf(requireBearer('Bearer x', '', 'ingest'))).toBe('FORBIDDEN');
  });
  it('compares digests', async () => {
    expect(await constantTimeEqual('a', 'a')).toBe(true);
    expect(await constantTimeEqual('a', 'b')).toBe(false);
  });
});
