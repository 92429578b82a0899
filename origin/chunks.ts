/**
 * Durable Object SQLite caps a row (and a BLOB) at 2 MB, and a 2 s UHD segment is bigger, so
 * segment bytes are stored as ordered pieces of CHUNK_BYTES. 1 MiB leaves room for the key columns.
 */
export const CHUNK_BYTES = 1024 * 1024;

/** Pieces of `bytes` as ArrayBuffers (what SQLite bindings accept); at least one, even when empty. */
export function split(bytes: Uint8Array, size = CHUNK_BYTES): ArrayBuffer[] {
  const pieces: ArrayBuffer[] = [];
  for (let offset = 0; offset < bytes.byteLength || pieces.length === 0; offset += size) {
    pieces.push(bytes.slice(offset, offset + size).buffer);
  }
  return pieces;
}

export function join(pieces: ArrayBuffer[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(pieces.reduce((sum, p) => sum + p.byteLength, 0));
  let offset = 0;
  for (const p of pieces) {
    out.set(new Uint8Array(p), offset);
    offset += p.byteLength;
  }
  return out;
}
