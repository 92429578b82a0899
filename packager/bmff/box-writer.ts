/** Minimal ISO-BMFF writer: boxes are built from byte parts and concatenated once. */

export type Part = Uint8Array;

const encoder = new TextEncoder();

export function concat(parts: Part[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const p of parts) length += p.byteLength;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

export function u8(value: number): Part {
  return Uint8Array.of(value & 0xff);
}

export function u32(value: number): Part {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0);
  return out;
}

export function i32(value: number): Part {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, value);
  return out;
}

export function u64(value: number | bigint): Part {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

export function str(text: string): Part {
  return encoder.encode(text);
}

export function box(type: string, ...payload: Part[]): Uint8Array {
  const body = concat(payload);
  return concat([u32(body.byteLength + 8), str(type), body]);
}

export function fullBox(type: string, version: number, flags: number, ...payload: Part[]): Uint8Array {
  return box(type, u32(((version & 0xff) << 24) | (flags & 0xffffff)), ...payload);
}
