import { containerTypes, fourcc } from '../../packager/bmff/box-reader.ts';

/** A box the mutator can aim at, with the boxes that contain it (outermost first). */
export interface Located {
  type: string;
  start: number;
  end: number;
  payload: number;
  ancestors: Located[];
}

/** Containers whose children start after some fields (full-box header, sample entry fields). */
const CHILDREN_AFTER: Record<string, number> = {
  stsd: 8,
  dref: 8,
  meta: 4,
  avc1: 78,
  avc3: 78,
  hvc1: 78,
  hev1: 78,
  encv: 78,
  mp4a: 28,
  enca: 28,
  'ec-3': 28,
  'ac-3': 28,
};

/**
 * Every box that parses, depth first, stopping quietly where the bytes stop making sense: the
 * mutator walks inputs it has already damaged, so unlike the packager's reader this never throws.
 */
export function walkBoxes(bytes: Uint8Array, maxBoxes = 2000): Located[] {
  const out: Located[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const scan = (start: number, end: number, ancestors: Located[]) => {
    let offset = start;
    while (offset + 8 <= end && out.length < maxBoxes) {
      let size = dv.getUint32(offset);
      const type = fourcc(bytes, offset + 4);
      let payload = offset + 8;
      if (size === 1) {
        if (offset + 16 > end) return;
        const large = dv.getBigUint64(offset + 8);
        if (large > BigInt(end - offset)) return;
        size = Number(large);
        payload = offset + 16;
      } else if (size === 0) size = end - offset;
      if (size < payload - offset || offset + size > end || !/^[\x20-\x7e]{4}$/.test(type)) return;
      const box: Located = { type, start: offset, end: offset + size, payload, ancestors };
      out.push(box);
      const skip = containerTypes.has(type) ? 0 : CHILDREN_AFTER[type];
      if (skip !== undefined && payload + skip <= box.end) scan(payload + skip, box.end, [...ancestors, box]);
      offset += size;
    }
  };
  scan(0, bytes.byteLength, []);
  return out;
}
