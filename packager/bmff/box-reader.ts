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

const decoder = new TextDecoder('latin1');

export function fourcc(bytes: Uint8Array, offset: number): string {
  return decoder.decode(bytes.subarray(offset, offset + 4));
}

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The boxes laid end to end in bytes[start, end). Throws MEDIA_MALFORMED with the offset and box
 * name when a size runs past the end (truncated upload) or is impossible.
 */
export function readBoxes(bytes: Uint8Array, start = 0, end = bytes.byteLength): Box[] {
  const dv = view(bytes);
  const boxes: Box[] = [];
  let offset = start;
  while (offset < end) {
    if (end - offset < 8) {
      throw new AppError(
        'MEDIA_MALFORMED',
        `trailing ${end - offset} bytes at offset ${offset} are too short for a box header`,
      );
    }
    let size = dv.getUint32(offset);
    const type = fourcc(bytes, offset + 4);
    let payload = offset + 8;
    if (!/^[\x20-\x7e]{4}$/.test(type)) {
      throw new AppError(
        'MEDIA_MALFORMED',
        `bytes at offset ${offset} are not an ISO-BMFF box (type is not printable)`,
      );
    }
    if (size === 1) {
      if (end - offset < 16)
        throw new AppError('MEDIA_MALFORMED', `box '${type}' at offset ${offset} has a truncated 64-bit size`);
      size = Number(dv.getBigUint64(offset + 8));
      payload = offset + 16;
    } else if (size === 0) {
      size = end - offset; // box extends to the end of its container
    }
    if (size < payload - offset) {
      throw new AppError(
        'MEDIA_MALFORMED',
        `box '${type}' at offset ${offset} declares size ${size}, smaller than its header`,
      );
    }
    if (offset + size > end) {
      throw new AppError(
        'MEDIA_MALFORMED',
        `box '${type}' at offset ${offset} declares ${size} bytes but only ${end - offset} remain (truncated?)`,
      );
    }
    boxes.push({ type, start: offset, end: offset + size, payload });
    offset += size;
  }
  return boxes;
}

/** Children of a container box; `skip` is the number of payload bytes before the first child. */
export function children(bytes: Uint8Array, box: Box, skip = 0): Box[] {
  return readBoxes(bytes, box.payload + skip, box.end);
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
