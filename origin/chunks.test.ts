import { describe, expect, it } from 'vitest';
import { join, split } from './chunks.ts';

describe('chunks', () => {
  it('splits under the row cap and joins back byte-exact', () => {
    const bytes = new Uint8Array(2_500_000).map((_, i) => (i * 31) & 0xff);
    const pieces = split(bytes);
    expect(pieces.length).toBe(3);
    expect(pieces.every((p) => p.byteLength <= 1024 * 1024)).toBe(true);
    expect(Buffer.from(join(pieces)).equals(Buffer.from(bytes))).toBe(true);
  });
  it('keeps one (empty) piece for an empty body', () => {
    expect(split(new Uint8Array(0)).length).toBe(1);
    expect(join(split(new Uint8Array(0))).byteLength).toBe(0);
  });
});
