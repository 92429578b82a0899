import type { OriginResult } from './result.ts';

/**
 * The body of a segment answered while it is still being written (chunked transfer of chunked
 * CMAF, docs/latency.md): part 0's bytes at once, then each further part of the segment as
 * `next(n)` yields it (it holds until the part lands), closed after the last part. A part that
 * does not come by its deadline errors the stream: the player sees a broken transfer, never a
 * silently short segment that would look complete.
 */
export function partStream(
  first: Uint8Array,
  parts: number,
  next: (n: number) => Promise<OriginResult<{ bytes: Uint8Array }>>,
): ReadableStream<Uint8Array> {
  // A TransformStream written from here: its readable side is a plain byte source that the
  // runtime pumps across Durable Object RPC while this loop waits for the next part.
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  // The abort below is the consumer's to see (its read fails), not an unhandled rejection here.
  writer.closed.catch(() => undefined);
  const pump = async () => {
    await writer.write(first);
    for (let n = 1; n < parts; n++) {
      const part = await next(n);
      if (!part.ok) {
        await writer.abort(new Error(`${part.code}: part ${n} of ${parts}: ${part.message}`));
        return;
      }
      await writer.write(part.value.bytes);
    }
    await writer.close();
  };
  // A consumer that goes away makes the writes fail: nothing more to do then.
  pump().catch(() => undefined);
  return readable;
}
