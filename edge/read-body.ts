import { AppError } from '../contract/errors.ts';
import { concat } from '../packager/bmff/box-writer.ts';

/**
 * Read a request body of at most `maxBytes`. Content-Length is checked first so an honest client
 * gets its 413 before uploading anything; the bytes actually received are counted too, because
 * Content-Length may be absent (chunked uploads) or wrong.
 *
 * With a Content-Length within the limit the body is read in one native `arrayBuffer()` call: the
 * runtime then fills one buffer itself instead of handing JS a promise per network chunk and
 * copying the chunks together afterwards (docs/operations.md, "Origin performance"). HTTP framing
 * ends the body at the declared length, so the limit still holds; the length is checked anyway.
 */
export async function readBodyLimited(req: Request, maxBytes: number, what: string): Promise<Uint8Array<ArrayBuffer>> {
  const declared = req.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) {
    throw new AppError('PAYLOAD_TOO_LARGE', `${what} declares ${declared} bytes; the limit is ${maxBytes}`);
  }
  if (!req.body) return new Uint8Array(0);
  if (declared !== null && /^\d+$/.test(declared.trim())) {
    const bytes = new Uint8Array(await req.arrayBuffer());
    if (bytes.byteLength > maxBytes)
      throw new AppError('PAYLOAD_TOO_LARGE', `${what} is larger than the limit of ${maxBytes} bytes`);
    return bytes;
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new AppError('PAYLOAD_TOO_LARGE', `${what} is larger than the limit of ${maxBytes} bytes`);
    }
    parts.push(value);
  }
  return concat(parts);
}
