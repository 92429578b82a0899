/**
 * Clock time "HH:MM:SS.mmm" as both WebVTT and TTML write it. Hours have at least two digits and
 * as many more as needed, so epoch media time (about 490,000 hours) is written exactly as it is:
 * both formats allow hours of any size.
 */
export function clockTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) throw new RangeError(`clock time needs a non-negative integer of ms, got ${ms}`);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  const frac = ms % 1000;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(frac).padStart(3, '0')}`;
}

/** Parse a WebVTT timestamp ("[HH+:]MM:SS.mmm") to ms, or undefined when it is not one. */
export function parseVttTimestamp(text: string): number | undefined {
  const m = /^(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})$/.exec(text);
  if (!m) return undefined;
  const ms = ((Number(m[1] ?? 0) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]);
  return Number.isSafeInteger(ms) ? ms : undefined;
}
