/**
 * Golden files: expected outputs checked in under `testdata/expected/` (testdata/README.md). A
 * test compares what the code makes now with the file; a change shows up as a readable diff
 * (text line by line; binaries as a box-by-box listing, then the bytes around the first
 * difference). `UPDATE_GOLDEN=1 npx vitest run --project unit <test>` rewrites the files instead;
 * review them with `git diff testdata/expected` and commit them with the change that made them.
 * Node only (the unit project): it reads and writes files.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { type Box, readBoxes } from '../packager/bmff/box-reader.ts';
import { readFragments } from '../packager/fragment-reader.ts';

export const GOLDEN_DIR = join(import.meta.dirname, '..', 'testdata', 'expected');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** The checked-in bytes of `testdata/expected/<name>`. */
export function readGolden(name: string): Uint8Array {
  return new Uint8Array(readFileSync(pathOf(name)));
}

/** `actual` must equal `testdata/expected/<name>` (written instead under UPDATE_GOLDEN=1). */
export function expectGoldenText(name: string, actual: string): void {
  if (update(name, actual)) return;
  expect(actual, `testdata/expected/${name} (UPDATE_GOLDEN=1 rewrites it)`).toBe(readFileSync(pathOf(name), 'utf8'));
}

/**
 * `actual` must equal `testdata/expected/<name>` byte for byte. On a difference the failure shows
 * the two files box by box (sizes, small boxes in hex, sample sizes and hashes), so the diff
 * names what changed; if the listings agree, the bytes around the first difference.
 */
export function expectGoldenBytes(name: string, actual: Uint8Array): void {
  if (update(name, actual)) return;
  const expected = readGolden(name);
  if (equal(actual, expected)) return;
  const label = `testdata/expected/${name} differs (UPDATE_GOLDEN=1 rewrites it)`;
  expect(listBoxes(actual), label).toBe(listBoxes(expected));
  let at = 0;
  while (at < Math.min(actual.byteLength, expected.byteLength) && actual[at] === expected[at]) at++;
  expect(hexAround(actual, at), `${label}: first difference at byte ${at}`).toBe(hexAround(expected, at));
  expect(actual.byteLength, label).toBe(expected.byteLength);
}

function pathOf(name: string): string {
  return join(GOLDEN_DIR, name);
}

/** Under UPDATE_GOLDEN=1: write the file (when it changed) and skip the comparison. */
function update(name: string, actual: string | Uint8Array): boolean {
  const file = pathOf(name);
  if (!UPDATE) {
    if (!existsSync(file))
      throw new Error(`testdata/expected/${name} is missing: run the test with UPDATE_GOLDEN=1 and commit it`);
    return false;
  }
  const bytes = typeof actual === 'string' ? new TextEncoder().encode(actual) : actual;
  if (existsSync(file) && equal(new Uint8Array(readFileSync(file)), bytes)) return true;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  console.log(`golden file written: testdata/expected/${name}`);
  return true;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** Boxes whose payload is boxes (after `skip` bytes of fields). */
const CONTAINERS: Record<string, number> = {
  moov: 0,
  trak: 0,
  mdia: 0,
  minf: 0,
  stbl: 0,
  mvex: 0,
  dinf: 0,
  edts: 0,
  moof: 0,
  traf: 0,
  sinf: 0,
  schi: 0,
  stsd: 8,
  avc1: 78,
  avc3: 78,
  hvc1: 78,
  hev1: 78,
  encv: 78,
  mp4a: 28,
  'ec-3': 28,
  enca: 28,
};

/** One line per box (indented by depth): type, offset, size; small leaves in hex, big ones hashed; mdat per sample. */
export function listBoxes(bytes: Uint8Array): string {
  const lines: string[] = [];
  const walk = (boxes: Box[], depth: number) => {
    for (const b of boxes) {
      const pad = '  '.repeat(depth);
      const payload = bytes.subarray(b.payload, b.end);
      const skip = CONTAINERS[b.type];
      if (skip !== undefined) {
        lines.push(
          `${pad}${b.type} @${b.start} size ${b.end - b.start}${skip ? ` fields ${hex(payload.subarray(0, skip))}` : ''}`,
        );
        walk(readBoxes(bytes, b.payload + skip, b.end, b), depth + 1);
      } else if (b.type === 'mdat') {
        lines.push(`${pad}mdat @${b.start} size ${b.end - b.start} sha256 ${hash(payload)}`);
      } else {
        lines.push(
          `${pad}${b.type} @${b.start} size ${b.end - b.start} ${payload.byteLength <= 96 ? hex(payload) : `sha256 ${hash(payload)}`}`,
        );
      }
    }
  };
  try {
    walk(readBoxes(bytes), 0);
  } catch (e) {
    lines.push(`(unreadable from here: ${(e as Error).message})`);
  }
  // Segments: every sample, so a diff says which samples changed.
  try {
    readFragments(bytes).forEach((f, i) => {
      f.samples.forEach((s, j) =>
        lines.push(
          `fragment ${i} sample ${j}: dts ${s.dts} duration ${s.duration} flags ${s.flags.toString(16)} size ${s.data.byteLength} sha256 ${hash(s.data)}`,
        ),
      );
    });
  } catch {
    // an init, or a body the box listing already shows to be unreadable
  }
  return `${lines.join('\n')}\n`;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function hash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

/** 32 bytes either side of `at`, 16 per line with offsets. */
function hexAround(bytes: Uint8Array, at: number): string {
  const from = Math.max(0, (at & ~15) - 32);
  const lines: string[] = [];
  for (let p = from; p < Math.min(bytes.byteLength, from + 80); p += 16)
    lines.push(`${p.toString().padStart(8)}: ${hex(bytes.subarray(p, Math.min(p + 16, bytes.byteLength)))}`);
  return lines.join('\n');
}
