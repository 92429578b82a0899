/**
 * The two CENC ciphers on WebCrypto, operating in place on a buffer of scattered ranges. Each
 * function makes exactly one crypto.subtle call: the cost per call (a promise, a copy in and
 * out) is what limits throughput on small samples, not AES.
 */
import type { ProtectionScheme } from './pssh.ts';

export type Range = readonly [start: number, length: number];

export function importContentKey(key: Uint8Array, scheme: ProtectionScheme): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', key as BufferSource, scheme === 'cenc' ? 'AES-CTR' : 'AES-CBC', false, ['encrypt']);
}

/**
 * cenc (ISO/IEC 23001-7 §10.1): AES-CTR whose 128-bit counter block is the 8-byte IV followed by a
 * 64-bit block counter starting at 0. The protected runs of one sample form one key stream (the
 * counter and the position within a block continue across subsamples), so they are gathered,
 * encrypted in one call and scattered back.
 */
export async function ctrInPlace(key: CryptoKey, iv8: Uint8Array, buf: Uint8Array, ranges: Range[]): Promise<void> {
  const counter = new Uint8Array(16);
  counter.set(iv8);
  const input = gather(buf, ranges);
  const out = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CTR', counter, length: 64 }, key, input as BufferSource));
  scatter(buf, ranges, out);
}

/**
 * cenc with 16-byte IVs: sample i's IV is hi8 ‖ B_i where B_i counts the 16-byte blocks of
 * protected data (each sample rounded up to a block) before it, so the segment is one key stream
 * starting at hi8 ‖ 0. Each sample's protected bytes are gathered at a block boundary, the
 * whole buffer is encrypted in one call, and the result scattered back. The low 64 bits never
 * wrap (a segment is far below 2^64 blocks), so a decryptor that increments 64 or 128 bits agrees.
 */
export async function ctrSegmentInPlace(key: CryptoKey, hi8: Uint8Array, buf: Uint8Array, samples: Range[][]): Promise<void> {
  let total = 0;
  for (const ranges of samples) {
    let n = 0;
    for (const [, len] of ranges) n += len;
    total += Math.ceil(n / 16) * 16;
  }
  if (total === 0) return;
  const input = new Uint8Array(total);
  let p = 0;
  for (const ranges of samples) {
    const start = p;
    for (const [s, len] of ranges) {
      input.set(buf.subarray(s, s + len), p);
      p += len;
    }
    p = start + Math.ceil((p - start) / 16) * 16;
  }
  const counter = new Uint8Array(16);
  counter.set(hi8);
  const out = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CTR', counter, length: 64 }, key, input as BufferSource));
  p = 0;
  for (const ranges of samples) {
    const start = p;
    for (const [s, len] of ranges) {
      buf.set(out.subarray(p, p + len), s);
      p += len;
    }
    p = start + Math.ceil((p - start) / 16) * 16;
  }
}

/**
 * cbcs (§10.4): within one protected run, the pattern encrypts `crypt` 16-byte blocks then leaves
 * `skip` clear, repeatedly; the encrypted blocks form one CBC chain (the chain skips over clear
 * blocks), which restarts from the constant IV at every subsample. A trailing partial block is
 * clear, as is a trailing group shorter than `crypt` blocks. crypt = skip = 0 means every block.
 * WebCrypto's AES-CBC always adds PKCS#7 padding: we encrypt whole blocks and drop the last one,
 * which does not change the blocks before it.
 */
export async function cbcPatternInPlace(key: CryptoKey, iv16: Uint8Array, buf: Uint8Array, start: number, length: number, crypt: number, skip: number): Promise<void> {
  const blocks = Math.floor(length / 16);
  if (blocks === 0) return;
  const ranges: Range[] = [];
  if (crypt === 0 && skip === 0) {
    ranges.push([start, blocks * 16]);
  } else {
    for (let b = 0; b + crypt <= blocks; b += crypt + skip) ranges.push([start + b * 16, crypt * 16]);
  }
  if (ranges.length === 0) return;
  const input = gather(buf, ranges);
  const out = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CBC', iv: iv16 as BufferSource }, key, input as BufferSource), 0, input.byteLength);
  scatter(buf, ranges, out);
}

/** One range is used as a view (no copy); several are copied into one contiguous buffer. */
function gather(buf: Uint8Array, ranges: Range[]): Uint8Array {
  if (ranges.length === 1) return buf.subarray(ranges[0][0], ranges[0][0] + ranges[0][1]);
  let total = 0;
  for (const [, len] of ranges) total += len;
  const out = new Uint8Array(total);
  let p = 0;
  for (const [start, len] of ranges) {
    out.set(buf.subarray(start, start + len), p);
    p += len;
  }
  return out;
}

function scatter(buf: Uint8Array, ranges: Range[], data: Uint8Array): void {
  let p = 0;
  for (const [start, len] of ranges) {
    buf.set(data.subarray(p, p + len), start);
    p += len;
  }
}
