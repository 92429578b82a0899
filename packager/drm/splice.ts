/**
 * Insert bytes inside nested boxes without re-serialising them: copy the buffer once with the new
 * bytes spliced in and add their length to the size field of every enclosing box. That keeps every
 * box we do not understand byte-identical.
 */
import { AppError } from '../../contract/errors.ts';
import { view, type Box } from '../bmff/box-reader.ts';

export interface Insertion {
  /** Offset in the original buffer where the bytes go. */
  at: number;
  bytes: Uint8Array;
  /** Boxes (of the original buffer) that contain `at` and must grow. */
  ancestors: Box[];
}

/** `into`: the buffer to write the output to (its length must be the output's), instead of a new one. */
export function splice(bytes: Uint8Array, insertions: Insertion[], into?: Uint8Array): Uint8Array {
  const sorted = [...insertions].sort((a, b) => a.at - b.at);
  const total = sorted.reduce((n, i) => n + i.bytes.byteLength, bytes.byteLength);
  if (into && into.byteLength !== total)
    throw new AppError('INTERNAL', `splice output is ${total} bytes, not ${into.byteLength}`);
  const out = into ?? new Uint8Array(total);
  const grow = new Map<number, number>();
  for (const ins of sorted) {
    for (const a of ins.ancestors) {
      if (ins.at < a.payload || ins.at > a.end)
        throw new AppError('INTERNAL', `insertion at ${ins.at} is outside box '${a.type}' [${a.start}, ${a.end})`);
      grow.set(a.start, (grow.get(a.start) ?? 0) + ins.bytes.byteLength);
    }
  }
  // Copy, then patch sizes at their shifted positions.
  let src = 0;
  let dst = 0;
  const shift = (offset: number) => {
    let s = 0;
    for (const ins of sorted) if (ins.at <= offset) s += ins.bytes.byteLength;
    return s;
  };
  for (const ins of sorted) {
    out.set(bytes.subarray(src, ins.at), dst);
    dst += ins.at - src;
    out.set(ins.bytes, dst);
    dst += ins.bytes.byteLength;
    src = ins.at;
  }
  out.set(bytes.subarray(src), dst);
  const dv = view(out);
  for (const [start, delta] of grow) {
    // Bytes inserted at an offset go before the original byte there, so a box starting at that
    // offset moves by them too.
    const at = start + shift(start);
    const size = dv.getUint32(at);
    if (size === 1) dv.setBigUint64(at + 8, dv.getBigUint64(at + 8) + BigInt(delta));
    else if (size !== 0) {
      if (size + delta > 0xffffffff) throw new AppError('INTERNAL', 'box outgrew a 32-bit size');
      dv.setUint32(at, size + delta);
    }
  }
  return out;
}
