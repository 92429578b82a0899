import { describe, expect, it } from 'vitest';
import { partStream } from './part-stream.ts';
import { fail, ok } from './result.ts';

const bytes = (n: number) => new Uint8Array([n, n, n]);

describe('partStream', () => {
  it('gives part 0 before the next part exists, then each part once it comes, and closes after the last', async () => {
    const asked: number[] = [];
    const gates = new Map<number, (v: { bytes: Uint8Array }) => void>();
    const stream = partStream(bytes(0), 3, (n) => {
      asked.push(n);
      return new Promise((resolve) => gates.set(n, (v) => resolve(ok(v))));
    });
    const reader = stream.getReader();
    expect((await reader.read()).value).toEqual(bytes(0));
    // The reader waits on part 1, which has not come yet.
    const pending = reader.read();
    await new Promise((r) => setTimeout(r, 0));
    expect(asked).toEqual([1]);
    gates.get(1)!({ bytes: bytes(1) });
    expect((await pending).value).toEqual(bytes(1));
    const last = reader.read();
    await new Promise((r) => setTimeout(r, 0));
    gates.get(2)!({ bytes: bytes(2) });
    expect((await last).value).toEqual(bytes(2));
    expect(await reader.read()).toEqual({ done: true, value: undefined });
    expect(asked).toEqual([1, 2]);
  });

  it('errors the stream when a part does not come (no silently short segment)', async () => {
    const stream = partStream(bytes(0), 4, async (n) =>
      n === 1 ? ok({ bytes: bytes(1) }) : fail('SEGMENT_GONE', 'not published before its deadline'),
    );
    const reader = stream.getReader();
    expect((await reader.read()).value).toEqual(bytes(0));
    expect((await reader.read()).value).toEqual(bytes(1));
    await expect(reader.read()).rejects.toThrow(/SEGMENT_GONE: part 2 of 4/);
  });

  it('a segment of one part is that part', async () => {
    const reader = partStream(bytes(7), 1, async () => fail('INTERNAL', 'never asked')).getReader();
    expect((await reader.read()).value).toEqual(bytes(7));
    expect((await reader.read()).done).toBe(true);
  });
});
