/**
 * The two CENC ciphers on WebCrypto, operating in place on a buffer of scattered ranges. Each
 * function makes exactly one crypto.subtle call: the cost per call (a promise, a copy in and
 * out) is what limits throughput on small samples, not AES.
 */
import type { ProtectionScheme } from './pssh.ts';

export type Range = readonly [start: number, length: number];

export function importContentKey(key: Uint8Array, scheme: ProtectionScheme): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', key as BufferSource, scheme === 'cenc' ? 'AES-CTR' : 'AES-CBC', false, [
    'encrypt',
  ]);
}

/**
 * cenc (ISO/IEC 23001-7 §10.1) with 8-byte IVs: the 128-bit counter block is the IV followed by a
 * 64-bit block counter starting at 0. The protected runs of one sample form one key stream (the
 * counter and the position within a block continue across subsamples), so they are gathered,
 * encrypted in one call and scattered back.
 */
export function ctrInPlace(key: CryptoKey, iv8: Uint8Array, buf: Uint8Array, ranges: Range[]): Promise<void> {
  return encryptGathered(
    { name: 'AES-CTR', counter: counterBlock(iv8) as BufferSource, length: 64 },
    key,
    buf,
    [ranges],
    false,
  );
}

/**
 * cenc with 16-byte IVs, audio (whole samples, which do not start on block boundaries) and
 * segments of several fragments (encrypt-segment.ts lays out only one-fragment video): sample i's
 * IV is hi8 ‖ B_i where B_i counts the 16-byte blocks of protected data (each sample rounded up to
 * a block) before it, so the segment is one key stream starting at hi8 ‖ 0: each sample's
 * protected bytes are gathered at a block boundary and the whole segment is one call. The low 64
 * bits never wrap (a segment is far below 2^64 blocks), so a decryptor that increments 64 or 128
 * bits agrees.
 */
export function ctrSegmentInPlace(key: CryptoKey, hi8: Uint8Array, buf: Uint8Array, samples: Range[][]): Promise<void> {
  return encryptGathered(
    { name: 'AES-CTR', counter: counterBlock(hi8) as BufferSource, length: 64 },
    key,
    buf,
    samples,
    true,
  );
}

/**
 * cenc with 16-byte IVs, video: the key stream of one call over `bytes` (the segment's sample
 * data, boxes between fragments included) starting at hi8 ‖ 0. No gather and no scatter: the
 * caller lays out protected runs on this stream's block boundaries and puts the clear bytes back.
 */
export async function ctrStream(key: CryptoKey, hi8: Uint8Array, bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-CTR', counter: counterBlock(hi8) as BufferSource, length: 64 },
      key,
      bytes as BufferSource,
    ),
  );
}

/**
 * cbcs (§10.4): within one protected run, the pattern encrypts `crypt` 16-byte blocks then leaves
 * `skip` clear, repeatedly; the encrypted blocks form one CBC chain (the chain skips over clear
 * blocks), which restarts from the constant IV at every subsample. A trailing partial block is
 * clear, as is a trailing group shorter than `crypt` blocks. crypt = skip = 0 means every block.
 * One call per run: a CBC chain cannot be split, and two runs cannot share a call, because the
 * second would chain from the first's last ciphertext block instead of restarting from the IV.
 */
export function cbcPatternInPlace(
  key: CryptoKey,
  iv16: Uint8Array,
  buf: Uint8Array,
  start: number,
  length: number,
  crypt: number,
  skip: number,
): Promise<void> {
  const blocks = Math.floor(length / 16);
  const ranges: Range[] = [];
  if (crypt === 0 && skip === 0) {
    if (blocks > 0) ranges.push([start, blocks * 16]);
  } else {
    for (let b = 0; b + crypt <= blocks; b += crypt + skip) ranges.push([start + b * 16, crypt * 16]);
  }
  return encryptGathered({ name: 'AES-CBC', iv: iv16 as BufferSource }, key, buf, [ranges], false);
}

function counterBlock(iv8: Uint8Array): Uint8Array {
  const counter = new Uint8Array(16);
  counter.set(iv8);
  return counter;
}

/**
 * The one WebCrypto call every cipher above makes: gather the groups' ranges into one buffer (a
 * single range is used in place, without a copy), encrypt, scatter the result back. With
 * `blockAlign`, each group starts at a 16-byte boundary of the gathered buffer (cenc 16-byte
 * IVs: a sample's key stream starts at a whole counter block). WebCrypto's AES-CBC always adds
 * PKCS#7 padding: only the input's length of output is used, and the blocks before the pad
 * block do not depend on it.
 */
async function encryptGathered(
  alg: AesCtrParams | AesCbcParams,
  key: CryptoKey,
  buf: Uint8Array,
  groups: Range[][],
  blockAlign: boolean,
): Promise<void> {
  const align = (n: number) => (blockAlign ? Math.ceil(n / 16) * 16 : n);
  let total = 0;
  for (const ranges of groups) {
    let n = 0;
    for (const [, len] of ranges) n += len;
    total += align(n);
  }
  if (total === 0) return;
  const single = groups.length === 1 && groups[0].length === 1 && !blockAlign;
  const input = single ? buf.subarray(groups[0][0][0], groups[0][0][0] + groups[0][0][1]) : scratchBuffer(total);
  if (!single) walk(groups, align, (at, p, len) => input.set(buf.subarray(at, at + len), p));
  // encrypt() copies its input before it returns (WebCrypto §14.3.1 step 2, "getting a copy of
  // the bytes"; Node and workerd both do), so the shared gather buffer is free again as soon as
  // the call is made, even while concurrent calls of one segment are in flight.
  const pending = crypto.subtle.encrypt(alg, key, input as BufferSource);
  const out = new Uint8Array(await pending, 0, input.byteLength);
  walk(groups, align, (at, p, len) => buf.set(out.subarray(p, p + len), at));
}

/**
 * One scratch buffer for the isolate, grown as needed. A fresh multi-megabyte ArrayBuffer per
 * segment (zero-filled, then collected) costs about as much as the AES itself in workerd. Its
 * contents are only good until the next await: concurrent segments in the isolate share it.
 */
let scratch = new Uint8Array(0);
/** Larger gathers (UHD segments) get a buffer of their own, so the isolate never keeps one: its memory is 128 MB. */
const SCRATCH_MAX_BYTES = 8 * 1024 * 1024;
export function scratchBuffer(size: number): Uint8Array {
  if (size > SCRATCH_MAX_BYTES) return new Uint8Array(size);
  if (scratch.byteLength < size)
    scratch = new Uint8Array(Math.min(SCRATCH_MAX_BYTES, Math.max(size, scratch.byteLength * 2)));
  return scratch.subarray(0, size);
}

/** Visit every range with its place `p` in the gathered buffer. */
function walk(
  groups: Range[][],
  align: (n: number) => number,
  visit: (at: number, p: number, len: number) => void,
): void {
  let p = 0;
  for (const ranges of groups) {
    const start = p;
    for (const [at, len] of ranges) {
      visit(at, p, len);
      p += len;
    }
    p = start + align(p - start);
  }
}
