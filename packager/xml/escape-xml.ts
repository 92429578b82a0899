/** Escape text for XML content and attribute values (MPD, TTML, CPIX, PlayReady headers): one rule for all of them. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string,
  );
}
