import { describe, expect, it, vi } from 'vitest';
import { AppError } from '../contract/errors.ts';
import { errorResponse } from './http-errors.ts';

describe('errorResponse', () => {
  it('maps an AppError to its status, JSON body, own headers and CORS', async () => {
    const res = errorResponse(
      new AppError('SEGMENT_NOT_YET_AVAILABLE', 'segment 7 is due later', { 'cache-control': 'public, max-age=3' }),
    );
    expect(res.status).toBe(404);
    expect(res.headers.get('cache-control')).toBe('public, max-age=3');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toEqual({
      error: { code: 'SEGMENT_NOT_YET_AVAILABLE', id: 3003, message: 'segment 7 is due later' },
    });
  });

  it('answers anything else as a 500 without internals', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    const res = errorResponse(new Error('secret detail'));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { code: 'INTERNAL', id: 9000, message: 'internal error' } });
    log.mockRestore();
  });
});
