/**
 * Strong ETags that carry the event version: bumping the version changes every ETag (and every
 * cache key built from it), so caches revalidate everything, while a candidate switch changes
 * the content hash. `"v3-1a2b3c4d5e6f7a8b"`.
 */
export function etagFor(version: number, sha256Hex: string): string {
  return `"v${version}-${sha256Hex.slice(0, 16)}"`;
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** RFC 9110 §13.1.2: If-None-Match matches when any listed tag (weak comparison) or `*` equals ours. */
export function matchesIfNoneMatch(header: string | null | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const ours = etag.replace(/^W\//, '');
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === ours);
}
