import { describe, expect, it } from 'vitest';
import type { AppError } from '../contract/errors.ts';
import { readBodyLimited } from './read-body.ts';

const put = (body: BodyInit, headers: Record<string, string> = {}) =>
  new Request('http://x/ingest', { method: 'PUT', body, headers, duplex: 'half' } as RequestInit);

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: AppError) => `${e.code}: ${e.message}`,
  );

describe('readBodyLimited', () => {
  it('reads a body within the limit', async () => {
    expect(await readBodyLimited(put(new Uint8Array([1, 2, 3])), 3, 'x')).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('answers a too-large Content-Length before reading any of the body', async () => {
    let pulled = false;
    const body = new ReadableStream(
      {
        pull() {
          pulled = true;
        },
      },
      { highWaterMark: 0 },
    );
    expect(await failure(readBodyLimited(put(body, { 'content-length': '1000' }), 10, 'segment 7'))).toBe(
      'PAYLOAD_TOO_LARGE: segment 7 declares 1000 bytes; the limit is 10',
    );
    expect(pulled).toBe(false);
  });

  it('counts the bytes that arrive when there is no Content-Length', async () => {
    const body = new ReadableStream({
      start(c) {
        c.enqueue(new Uint8Array(8));
        c.enqueue(new Uint8Array(8));
        c.close();
      },
    });
    expect(await failure(readBodyLimited(put(body), 10, 'init segment'))).toBe(
      'PAYLOAD_TOO_LARGE: init segment is larger than the limit of 10 bytes',
    );
  });

  it('reads a declared-length body in one piece', async () => {
    const bytes = new Uint8Array(300_000).map((_, i) => i & 0xff);
    expect(
      await readBodyLimited(put(bytes, { 'content-length': String(bytes.byteLength) }), bytes.byteLength, 'x'),
    ).toEqual(bytes);
  });

  it('still counts the bytes when Content-Length understates the body', async () => {
    expect(await failure(readBodyLimited(put(new Uint8Array(16), { 'content-length': '3' }), 10, 'segment 7'))).toBe(
      'PAYLOAD_TOO_LARGE: segment 7 is larger than the limit of 10 bytes',
    );
  });
});
