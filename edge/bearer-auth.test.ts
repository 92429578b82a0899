import { describe, expect, it } from 'vitest';
import { constantTimeEqual } from './bearer-auth.ts';

describe('constantTimeEqual', () => {
  it('compares digests of any length', async () => {
    expect(await constantTimeEqual('a', 'a')).toBe(true);
    expect(await constantTimeEqual('a', 'b')).toBe(false);
    expect(await constantTimeEqual('s3cre', 's3cret')).toBe(false);
    expect(await constantTimeEqual('', 'x')).toBe(false);
  });
});
