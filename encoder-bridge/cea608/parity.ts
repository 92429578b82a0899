/**
 * CEA-608 bytes carry 7 data bits and an odd-parity bit (bit 7). Decoders drop a byte whose
 * parity is wrong (a transmission error on analog line 21), so both ends must get it right.
 */
export function withOddParity(b7: number): number {
  let ones = 0;
  for (let v = b7 & 0x7f; v; v >>= 1) ones += v & 1;
  return (b7 & 0x7f) | (ones % 2 === 0 ? 0x80 : 0);
}

/** The 7 data bits of a received byte, or undefined when its parity is wrong. */
export function checkOddParity(byte: number): number | undefined {
  return withOddParity(byte) === byte ? byte & 0x7f : undefined;
}
