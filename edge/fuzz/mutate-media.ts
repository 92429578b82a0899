import { concat } from '../../packager/bmff/box-writer.ts';
import { type Located, walkBoxes } from './box-walk.ts';
import type { Rng } from './rng.ts';

/** A mutated body and what was done to it, in words (printed when the answer is wrong). */
export interface Mutation {
  bytes: Uint8Array;
  ops: string[];
}

type Op = (rng: Rng, bytes: Uint8Array, donors: readonly Uint8Array[]) => Mutation | undefined;

const U32_VALUES = [0, 1, 2, 7, 8, 0xff, 0xffff, 0x10000, 10_001, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/**
 * Mutate an ISO-BMFF body (an init or a segment) with 1 to 4 stacked structure-aware changes: bit
 * flips, interesting bytes and words, byte inserts and deletes, box size edits (including 64-bit
 * sizes and sizes past the parent), truncation, boxes spliced in from other files, huge counts,
 * version and flag edits, duplicated, removed and swapped boxes. `donors` are other real files.
 */
export function mutateMedia(rng: Rng, input: Uint8Array, donors: readonly Uint8Array[]): Mutation {
  let bytes = input;
  const ops: string[] = [];
  const n = rng.weighted([
    [6, 1],
    [3, 2],
    [1, 3],
    [1, 4],
  ] as const);
  for (let i = 0; i < n || ops.length === 0; i++) {
    const op = rng.weighted(OPS);
    const r = op(rng, bytes, donors);
    if (r) {
      bytes = r.bytes;
      ops.push(...r.ops);
    }
  }
  return { bytes, ops };
}

/** An offset worth changing: mostly inside a box that is not sample data, sometimes anywhere. */
function pickOffset(rng: Rng, bytes: Uint8Array): number {
  if (bytes.byteLength === 0) return 0;
  const boxes = walkBoxes(bytes).filter((b) => b.type !== 'mdat');
  if (boxes.length > 0 && rng.chance(0.75)) {
    const b = rng.pick(boxes);
    // Headers and the first fields are where parsers decide things.
    return rng.chance(0.5) ? b.start + rng.int(Math.min(24, b.end - b.start)) : rng.range(b.start, b.end - 1);
  }
  return rng.int(bytes.byteLength);
}

function pickBox(rng: Rng, bytes: Uint8Array, filter: (b: Located) => boolean = () => true): Located | undefined {
  const boxes = walkBoxes(bytes).filter(filter);
  return boxes.length ? rng.pick(boxes) : undefined;
}

/** Replace bytes[start, end) with `replacement`; `fix`: add the length change to every size in `ancestors`. */
function replaceRange(
  bytes: Uint8Array,
  start: number,
  end: number,
  replacement: Uint8Array,
  ancestors: Located[],
  fix: boolean,
): Uint8Array {
  const out = concat([bytes.subarray(0, start), replacement, bytes.subarray(end)]);
  const delta = replacement.byteLength - (end - start);
  if (fix && delta !== 0) {
    const dv = new DataView(out.buffer);
    for (const a of ancestors) {
      const size = dv.getUint32(a.start);
      if (size === 1) dv.setBigUint64(a.start + 8, dv.getBigUint64(a.start + 8) + BigInt(delta));
      else if (size !== 0) dv.setUint32(a.start, (size + delta) >>> 0);
    }
  }
  return out;
}

function setU32(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const out = bytes.slice();
  if (at + 4 <= out.byteLength) new DataView(out.buffer).setUint32(at, value >>> 0);
  return out;
}

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

const flipBits: Op = (rng, bytes) => {
  if (bytes.byteLength === 0) return undefined;
  const out = bytes.slice();
  const at: number[] = [];
  for (let i = rng.range(1, 8); i > 0; i--) {
    const p = pickOffset(rng, out);
    out[p] ^= 1 << rng.int(8);
    at.push(p);
  }
  return { bytes: out, ops: [`flip bits at ${at.join(',')}`] };
};

const interesting: Op = (rng, bytes) => {
  if (bytes.byteLength === 0) return undefined;
  const p = pickOffset(rng, bytes);
  if (rng.chance(0.5)) {
    const out = bytes.slice();
    out[p] = rng.pick([0, 1, 0x7f, 0x80, 0xfe, 0xff]);
    return { bytes: out, ops: [`byte ${p} := ${hex(out[p])}`] };
  }
  const value = rng.pick(U32_VALUES);
  return { bytes: setU32(bytes, p, value), ops: [`u32 at ${p} := ${hex(value)}`] };
};

const insertBytes: Op = (rng, bytes) => {
  const p = rng.chance(0.5) ? pickOffset(rng, bytes) : rng.int(bytes.byteLength + 1);
  const n = rng.pick([1, 2, 3, 4, 8, rng.range(1, 64)]);
  const chunk = rng.chance(0.5) ? rng.bytes(n) : new Uint8Array(n).fill(rng.pick([0, 0xff]));
  const box = pickBox(rng, bytes, (b) => p >= b.payload && p <= b.end);
  const fix = rng.chance(0.5);
  return {
    bytes: replaceRange(bytes, p, p, chunk, box ? [...box.ancestors, box] : [], fix),
    ops: [`insert ${n} bytes at ${p}${fix ? ' (sizes fixed)' : ''}`],
  };
};

const deleteBytes: Op = (rng, bytes) => {
  if (bytes.byteLength === 0) return undefined;
  const p = pickOffset(rng, bytes);
  const n = Math.min(rng.pick([1, 2, 4, 8, rng.range(1, 64)]), bytes.byteLength - p);
  const box = pickBox(rng, bytes, (b) => p >= b.payload && p + n <= b.end);
  const fix = rng.chance(0.5);
  return {
    bytes: replaceRange(bytes, p, p + n, new Uint8Array(0), box ? [...box.ancestors, box] : [], fix),
    ops: [`delete ${n} bytes at ${p}${fix ? ' (sizes fixed)' : ''}`],
  };
};

const boxSize: Op = (rng, bytes) => {
  const box = pickBox(rng, bytes);
  if (!box) return undefined;
  const size = box.end - box.start;
  const parentEnd = box.ancestors.at(-1)?.end ?? bytes.byteLength;
  if (rng.chance(0.25)) {
    // A 64-bit size: size field 1, then largesize (8 bytes) after the type.
    const large = rng.pick([BigInt(size + 8), BigInt(size + 9), 15n, 0n, 2n ** 63n, 2n ** 64n - 1n]);
    const header = new Uint8Array(8);
    new DataView(header.buffer).setBigUint64(0, large);
    const withLarge = replaceRange(bytes, box.start + 8, box.start + 8, header, box.ancestors, true);
    return { bytes: setU32(withLarge, box.start, 1), ops: [`${box.type}@${box.start} 64-bit size ${large}`] };
  }
  const value = rng.pick([
    0,
    1,
    7,
    8,
    9,
    size - 1,
    size + 1,
    size - 4,
    size + 4,
    size * 2,
    parentEnd - box.start + 1,
    parentEnd - box.start + 8,
    0x7fffffff,
    0xffffffff,
  ]);
  return { bytes: setU32(bytes, box.start, value), ops: [`${box.type}@${box.start} size ${size} := ${value >>> 0}`] };
};

const truncate: Op = (rng, bytes) => {
  if (bytes.byteLength === 0) return undefined;
  const box = pickBox(rng, bytes);
  const at =
    box && rng.chance(0.6)
      ? Math.max(0, Math.min(bytes.byteLength - 1, rng.pick([box.start, box.payload, box.end]) + rng.range(-8, 8)))
      : rng.int(bytes.byteLength);
  return { bytes: bytes.slice(0, at), ops: [`truncate to ${at}`] };
};

const splice: Op = (rng, bytes, donors) => {
  if (donors.length === 0) return undefined;
  const donor = rng.pick(donors);
  const from = pickBox(rng, donor, (b) => b.end - b.start <= 64 * 1024);
  const target = pickBox(rng, bytes);
  if (!from || !target) return undefined;
  const piece = donor.slice(from.start, from.end);
  const fix = rng.chance(0.7);
  const how = rng.pick(['replace', 'before', 'after'] as const);
  const [start, end] =
    how === 'replace'
      ? [target.start, target.end]
      : how === 'before'
        ? [target.start, target.start]
        : [target.end, target.end];
  return {
    bytes: replaceRange(bytes, start, end, piece, target.ancestors, fix),
    ops: [`splice a donor ${from.type} ${how} ${target.type}@${target.start}${fix ? ' (sizes fixed)' : ''}`],
  };
};

/** Where count and size fields are, as offsets from the payload (full-box header included). */
const COUNT_FIELDS: Record<string, number[]> = {
  trun: [4],
  stsd: [4],
  dref: [4],
  stts: [4],
  stsc: [4],
  stco: [4],
  stss: [4],
  ctts: [4],
  co64: [4],
  elst: [4],
  stsz: [4, 8],
  senc: [4],
  saiz: [5, 13],
  saio: [4, 12],
  sbgp: [8, 12],
  sgpd: [8, 12],
  pssh: [20, 36],
  trex: [4, 8, 12, 16, 20],
  tfhd: [4, 8, 12, 16],
  mfhd: [4],
  tfdt: [4, 8],
  mdhd: [12, 20],
  tkhd: [12, 20],
  tenc: [4],
};

const hugeCount: Op = (rng, bytes) => {
  const box = pickBox(rng, bytes, (b) => b.type in COUNT_FIELDS);
  if (!box) return undefined;
  const at = box.payload + rng.pick(COUNT_FIELDS[box.type]);
  if (at + 4 > box.end) return undefined;
  const old = new DataView(bytes.buffer, bytes.byteOffset).getUint32(at);
  const value = rng.pick([...U32_VALUES, old + 1, old - 1, old * 2, old * 1000]);
  return {
    bytes: setU32(bytes, at, value),
    ops: [`${box.type}@${box.start} field at +${at - box.payload} := ${hex(value)}`],
  };
};

const versionAndFlags: Op = (rng, bytes) => {
  const box = pickBox(rng, bytes, (b) => b.type in COUNT_FIELDS && b.payload + 4 <= b.end);
  if (!box) return undefined;
  const out = bytes.slice();
  if (rng.chance(0.3)) {
    out[box.payload] = rng.pick([0, 1, 2, 0xff]);
    return { bytes: out, ops: [`${box.type}@${box.start} version := ${out[box.payload]}`] };
  }
  const dv = new DataView(out.buffer);
  const old = dv.getUint32(box.payload) & 0xffffff;
  const flags = rng.chance(0.5) ? old ^ (1 << rng.int(24)) : rng.next() & 0xffffff;
  dv.setUint32(box.payload, (dv.getUint32(box.payload) & 0xff000000) | flags);
  return { bytes: out, ops: [`${box.type}@${box.start} flags ${hex(old)} := ${hex(flags)}`] };
};

const duplicateBox: Op = (rng, bytes) => {
  const box = pickBox(rng, bytes, (b) => b.end - b.start <= 256 * 1024);
  if (!box) return undefined;
  const fix = rng.chance(0.8);
  return {
    bytes: replaceRange(bytes, box.end, box.end, bytes.slice(box.start, box.end), box.ancestors, fix),
    ops: [`duplicate ${box.type}@${box.start}${fix ? ' (sizes fixed)' : ''}`],
  };
};

const removeBox: Op = (rng, bytes) => {
  const box = pickBox(rng, bytes);
  if (!box) return undefined;
  const fix = rng.chance(0.8);
  return {
    bytes: replaceRange(bytes, box.start, box.end, new Uint8Array(0), box.ancestors, fix),
    ops: [`remove ${box.type}@${box.start}${fix ? ' (sizes fixed)' : ''}`],
  };
};

const swapSiblings: Op = (rng, bytes) => {
  const boxes = walkBoxes(bytes);
  const pairs = boxes.filter((a) => boxes.some((b) => b.start === a.end && b.ancestors.length === a.ancestors.length));
  if (pairs.length === 0) return undefined;
  const a = rng.pick(pairs);
  const b = boxes.find((x) => x.start === a.end && x.ancestors.length === a.ancestors.length)!;
  const swapped = concat([bytes.subarray(b.start, b.end), bytes.subarray(a.start, a.end)]);
  return {
    bytes: replaceRange(bytes, a.start, b.end, swapped, [], false),
    ops: [`swap ${a.type}@${a.start} and ${b.type}`],
  };
};

/** A box cut short in place (its last bytes gone, every size fixed): the fields its flags promise are missing. */
const shrinkBox: Op = (rng, bytes) => {
  const box = pickBox(rng, bytes, (b) => b.end > b.payload && b.type !== 'mdat');
  if (!box) return undefined;
  const n = Math.min(rng.pick([1, 2, 4, 8, rng.range(1, 32)]), box.end - box.payload);
  return {
    bytes: replaceRange(bytes, box.end - n, box.end, new Uint8Array(0), [...box.ancestors, box], true),
    ops: [`cut the last ${n} bytes of ${box.type}@${box.start}`],
  };
};

/** Flag bits the packager reads: trun's per-sample fields, tfhd's optional defaults. */
const TRUN_FLAGS = [0x1, 0x4, 0x100, 0x200, 0x400, 0x800];
const TFHD_FLAGS = [0x1, 0x2, 0x8, 0x10, 0x20, 0x10000, 0x20000];

/**
 * A trun rewritten from scratch: a count from the interesting values, any subset of the
 * per-sample fields, and as many entries as chance gives (none, one, or the real ones), so the
 * declared count, the fields and the bytes present disagree in every way (the 92-byte trun bomb
 * is one draw of this).
 */
const rewriteTrun: Op = (rng, bytes) => {
  const trun = pickBox(rng, bytes, (b) => b.type === 'trun' && b.payload + 8 <= b.end);
  if (!trun) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  const oldCount = dv.getUint32(trun.payload + 4);
  const count = rng.pick([0, 1, oldCount, oldCount + 1, 10_000, 10_001, 65_536, 0x7fffffff, 0xffffffff]);
  const flags = TRUN_FLAGS.filter(() => rng.chance(0.5)).reduce((a, b) => a | b, 0);
  const perSample = [0x100, 0x200, 0x400, 0x800].filter((bit) => flags & bit).length * 4;
  const entries = Math.min(rng.pick([0, 1, oldCount, count]), 4096);
  const fields = new Uint8Array(8 + (flags & 0x1 ? 4 : 0) + (flags & 0x4 ? 4 : 0) + entries * perSample);
  const out = new DataView(fields.buffer);
  out.setUint32(0, (rng.pick([0, 1]) << 24) | flags);
  out.setUint32(4, count >>> 0);
  let q = 8;
  if (flags & 0x1) {
    // Keep the real data_offset when there was one (the samples stay findable), else an odd one.
    const old = dv.getUint32(trun.payload) & 0x1 ? dv.getInt32(trun.payload + 8) : 0;
    out.setInt32(q, rng.pick([old, 0, -8, 8, 0x7fffffff, -0x80000000]));
    q += 4;
  }
  if (flags & 0x4) q += 4;
  for (let i = 0; i < entries * (perSample / 4); i++, q += 4)
    out.setUint32(q, rng.pick([0, 1, 1024, 3000, 0xffffffff]));
  const box = concat([new Uint8Array(4), new TextEncoder().encode('trun'), fields]);
  new DataView(box.buffer).setUint32(0, box.byteLength);
  return {
    bytes: replaceRange(bytes, trun.start, trun.end, box, trun.ancestors, true),
    ops: [`trun@${trun.start} := count ${count >>> 0}, flags ${hex(flags)}, ${entries} entries`],
  };
};

/** tfhd's flags set to any subset of the defaults it may carry, its bytes left as they were. */
const tfhdFlags: Op = (rng, bytes) => {
  const tfhd = pickBox(rng, bytes, (b) => b.type === 'tfhd' && b.payload + 4 <= b.end);
  if (!tfhd) return undefined;
  const flags = TFHD_FLAGS.filter(() => rng.chance(0.4)).reduce((a, b) => a | b, 0);
  return { bytes: setU32(bytes, tfhd.payload, flags), ops: [`tfhd@${tfhd.start} flags := ${hex(flags)}`] };
};

const OPS: readonly (readonly [number, Op])[] = [
  [6, shrinkBox],
  [5, rewriteTrun],
  [3, tfhdFlags],
  [10, flipBits],
  [8, interesting],
  [5, insertBytes],
  [5, deleteBytes],
  [10, boxSize],
  [6, truncate],
  [6, splice],
  [10, hugeCount],
  [8, versionAndFlags],
  [3, duplicateBox],
  [3, removeBox],
  [2, swapSiblings],
];
