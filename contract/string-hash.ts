/**
 * cyrb53, a fast non-cryptographic string hash: for names and seeds that must be stable and
 * spread out, never for anything an attacker may want to collide on purpose.
 * Returns the two 32-bit halves after mixing (`h1` finished first, `h2` mixed with it).
 */
export function cyrb53Parts(text: string): { h1: number; h2: number } {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return { h1, h2 };
}
