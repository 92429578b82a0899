import { AppError } from '../../contract/errors.ts';

/** One ISO-BMFF box located inside a buffer. Offsets are absolute within that buffer. */
export interface Box {
  type: string;
  /** Offset of the box header. */
  start: number;
  /** Offset just past the box. */
  end: number;
  /** Offset of the payload (after size/type and, for 64-bit sizes, largesize). */
  payload: number;
}

/**
 * Most boxes one container may hold. Every box is at least 8 bytes, so without a cap a 32 MB
 * body of empty boxes would be 4 million Box objects (hundreds of MB in an isolate of 128). A
 * 10-minute ffmpeg per-frame fragmented file at 60 fps has 72,000 top-level boxes; a CMAF
 * segment has a few, or two per frame when every frame is its own fragment.
 */
export const MAX_BOXES_PER_CONTAINER = 100_000;

const decoder = new TextDecoder('latin1');

export function fourcc(bytes: Uint8Array, offset: number): string {
  const a = bytes[offset];
  const b = bytes[offset + 1];
  const c = bytes[offset + 2];
  const d = bytes[offset + 3];
  // ASCII (every real box type) without a decoder call: the bridge reads every box of every
  // frame (bench/bridge.ts); anything else decodes as before.
  if (a < 0x80 && b < 0x80 && c < 0x80 && d < 0x80) return String.fromCharCode(a, b, c, d);
  return decoder.decode(bytes.subarray(offset, offset + 4));
}

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The one shape of a parse failure: MEDIA_MALFORMED naming the box and where it starts in the
 * body, "trun at offset 120: …", so a publisher can find it with any box dumper.
 */
export function malformed(box: Pick<Box, 'type' | 'start'>, reason: string): AppError {
  return new AppError('MEDIA_MALFORMED', `${boxName(box.type)} at offset ${box.start}: ${reason}`);
}

/** A type with spaces or punctuation ('url ', garbage read as a type) is quoted so the message reads. */
function boxName(type: string): string {
  return /^[A-Za-z0-9-]+$/.test(type) ? type : `'${type}'`;
}

/**
 * The boxes laid end to end in bytes[start, end): the whole body, or the payload of `parent`.
 * Throws MEDIA_MALFORMED with the offset and box name when a size runs past the end (truncated
 * upload, or a child bigger than its parent) or is impossible.
 */
export function readBoxes(bytes: Uint8Array, start = 0, end = bytes.byteLength, parent?: Box): Box[] {
  if (start < 0 || end > bytes.byteLength || start > end)
    throw new AppError('MEDIA_MALFORMED', `no room for boxes in [${start}, ${end}) of a ${bytes.byteLength}-byte body`);
  const dv = view(bytes);
  const boxes: Box[] = [];
  const within = parent ? ` in ${boxName(parent.type)} at offset ${parent.start}` : '';
  let offset = start;
  while (offset < end) {
    if (end - offset < 8) {
      throw malformed(
        { type: 'box', start: offset },
        `${end - offset} trailing bytes${within} are too short for a box header`,
      );
    }
    if (boxes.length === MAX_BOXES_PER_CONTAINER)
      throw malformed({ type: 'box', start: offset }, `more than ${MAX_BOXES_PER_CONTAINER} boxes${within}`);
    let size = dv.getUint32(offset);
    const type = fourcc(bytes, offset + 4);
    let payload = offset + 8;
    if (!/^[\x20-\x7e]{4}$/.test(type))
      throw malformed({ type: 'box', start: offset }, `not an ISO-BMFF box${within} (type is not printable)`);
    if (size === 1) {
      if (end - offset < 16) throw malformed({ type, start: offset }, `truncated 64-bit size${within}`);
      const large = dv.getBigUint64(offset + 8);
      if (large > BigInt(end - offset))
        throw malformed(
          { type, start: offset },
          `declares ${large} bytes (64-bit size) but only ${end - offset} remain${within} (truncated?)`,
        );
      size = Number(large);
      payload = offset + 16;
    } else if (size === 0) {
      size = end - offset; // box extends to the end of its container
    }
    if (size < payload - offset)
      throw malformed(
        { type, start: offset },
        `declares size ${size}, smaller than its ${payload - offset}-byte header`,
      );
    if (size > end - offset)
      throw malformed(
        { type, start: offset },
        `declares ${size} bytes but only ${end - offset} remain${within} (truncated?)`,
      );
    boxes.push({ type, start: offset, end: offset + size, payload });
    offset += size;
  }
  return boxes;
}

/**
 * Children of a container box; `skip` is the number of payload bytes before the first child (the
 * fields of a full box or a sample entry), which the box must have.
 */
export function children(bytes: Uint8Array, box: Box, skip = 0): Box[] {
  if (box.end - box.payload < skip)
    throw malformed(box, `is ${box.end - box.start} bytes, too short for its ${skip} bytes of fields before its boxes`);
  return readBoxes(bytes, box.payload + skip, box.end, box);
}

/** Follow a path of container types from a list of sibling boxes, e.g. ['moov','trak','mdia']. */
export function findPath(bytes: Uint8Array, boxes: Box[], path: string[]): Box | undefined {
  let current: Box | undefined;
  let siblings = boxes;
  for (const type of path) {
    current = siblings.find((b) => b.type === type);
    if (!current) return undefined;
    siblings = containerTypes.has(type) ? children(bytes, current) : [];
  }
  return current;
}

/** Box types whose payload is a plain list of child boxes. */
export const containerTypes = new Set([
  'moov',
  'trak',
  'mdia',
  'minf',
  'stbl',
  'mvex',
  'moof',
  'traf',
  'edts',
  'dinf',
  'udta',
  'sinf',
  'schi',
]);

/** Must find a box or explain which is missing. */
export function requirePath(bytes: Uint8Array, boxes: Box[], path: string[]): Box {
  const box = findPath(bytes, boxes, path);
  if (!box) throw new AppError('MEDIA_MALFORMED', `missing box ${path.join('/')}`);
  return box;
}

/**
 * Reads the fields of one box in order, never past the box's own end: a field that does not fit
 * is MEDIA_MALFORMED naming the box, its offset and the field, never a read of the next box's
 * bytes (or a RangeError past the buffer). `skip`: payload bytes before the first field read.
 */
export class BoxFields {
  /** Absolute offset of the next field. */
  offset: number;
  readonly bytes: Uint8Array;
  readonly box: Box;
  private readonly dv: DataView;

  constructor(bytes: Uint8Array, box: Box, skip = 0) {
    this.bytes = bytes;
    this.box = box;
    this.dv = view(bytes);
    this.offset = box.payload;
    this.skip(skip, 'its leading fields');
  }

  /** Bytes of the box after the next field's offset. */
  get remaining(): number {
    return this.box.end - this.offset;
  }

  /** Throws unless `n` more bytes are in the box (for checking a run of fields at once). */
  need(n: number, what: string): void {
    if (!(n <= this.remaining))
      throw malformed(
        this.box,
        `${what} needs ${n} bytes at offset ${this.offset} but the box ends at ${this.box.end} (${this.remaining} left)`,
      );
  }

  skip(n: number, what: string): void {
    this.need(n, what);
    this.offset += n;
  }

  u8(what: string): number {
    return this.dv.getUint8(this.take(1, what));
  }

  u16(what: string): number {
    return this.dv.getUint16(this.take(2, what));
  }

  u32(what: string): number {
    return this.dv.getUint32(this.take(4, what));
  }

  i32(what: string): number {
    return this.dv.getInt32(this.take(4, what));
  }

  /** A 64-bit field as a number (exact below 2^53, which every time and offset we use is). */
  u64(what: string): number {
    return Number(this.dv.getBigUint64(this.take(8, what)));
  }

  /** version (8 bits) and flags (24 bits) of a full box. */
  versionAndFlags(): { version: number; flags: number } {
    const word = this.u32('version and flags');
    return { version: word >>> 24, flags: word & 0xffffff };
  }

  fourcc(what: string): string {
    return fourcc(this.bytes, this.take(4, what));
  }

  /** `n` bytes as a view (not a copy). */
  bytesOf(n: number, what: string): Uint8Array {
    const at = this.take(n, what);
    return this.bytes.subarray(at, at + n);
  }

  private take(n: number, what: string): number {
    this.need(n, what);
    const at = this.offset;
    this.offset += n;
    return at;
  }
}
