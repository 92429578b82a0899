/**
 * A caption cue on the event's media timeline: milliseconds since the Unix epoch, the same clock
 * segment K is cut from ([K·D, (K+1)·D)). Text may hold line breaks ("\n"); it is plain text,
 * never markup: each writer escapes it for its own format.
 */
export interface Cue {
  startMs: number;
  endMs: number;
  text: string;
}

/**
 * The cues of segment K, clipped to [K·D, (K+1)·D) and ordered by start. Every segment is then
 * self-contained: a cue that spans a boundary is written in both segments, each half in its own
 * interval, so a player that joins at any K shows it, and the halves meet exactly at the boundary.
 */
export function cuesInSegment(cues: readonly Cue[], k: number, durationMs: number): Cue[] {
  const from = k * durationMs;
  const to = from + durationMs;
  return cues
    .filter((c) => c.startMs < to && c.endMs > from)
    .map((c) => ({ startMs: Math.max(c.startMs, from), endMs: Math.min(c.endMs, to), text: c.text }))
    .sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
}
