/**
 * What an edge isolate tells an event's origin object about the CMCD its players sent since its
 * last report (edge/cmcd-tally.ts writes it, origin/viewer-counts.ts adds it up). Counts are of
 * answered /live requests; maps are bounded by the writer (see the limits below).
 */
export interface CmcdReport {
  /** Answered requests that carried CMCD (query or headers), that did not, and whose CMCD did not parse. */
  requests: { withCmcd: number; withoutCmcd: number; malformed: number };
  /** Distinct session ids (`sid`) seen since the last report, at most MAX_REPORT_SESSIONS, each cut to MAX_SID_LENGTH. */
  sessions: string[];
  /** Requests whose session id was left out because the report already had MAX_REPORT_SESSIONS. */
  sessionsDropped: number;
  /** Requested encoded bitrate (`br`, kbps) per object type (`ot`, `?` when absent): kbps → requests. */
  bitrateKbps: Record<string, Record<string, number>>;
  /** Requests flagged buffer starvation (`bs`). */
  bufferStarvation: number;
  /** Requests flagged startup (`su`). */
  startup: number;
  /** Requests per stream type (`st`: `l` live, `v` VOD), streaming format (`sf`: `d`, `h`, …) and object type (`ot`). */
  streamType: Record<string, number>;
  streamingFormat: Record<string, number>;
  objectType: Record<string, number>;
}

/** CMCD's `sid` is "a GUID … max 64 characters"; longer ones are cut, so one client cannot make a key huge. */
export const MAX_SID_LENGTH = 64;
/** At most this many session ids in one report (an isolate reports every few seconds). */
export const MAX_REPORT_SESSIONS = 1000;
/** At most this many distinct bitrates per object type; the rest count under `other`. */
export const MAX_BITRATES = 32;
/** At most this many distinct token values per map (`st`, `sf`, `ot`); the rest count under `other`. */
export const MAX_TOKENS = 16;

export function emptyCmcdReport(): CmcdReport {
  return {
    requests: { withCmcd: 0, withoutCmcd: 0, malformed: 0 },
    sessions: [],
    sessionsDropped: 0,
    bitrateKbps: {},
    bufferStarvation: 0,
    startup: 0,
    streamType: {},
    streamingFormat: {},
    objectType: {},
  };
}

/** Add `n` to `key` of a bounded count map: a key beyond `max` distinct ones counts under `other`. */
export function countInto(map: Record<string, number>, key: string, n: number, max: number): void {
  const k = key in map || Object.keys(map).length < max ? key : 'other';
  map[k] = (map[k] ?? 0) + n;
}

/** Add every count of `from` into `into` (bounded like countInto). */
export function addCounts(into: Record<string, number>, from: Record<string, number>, max: number): void {
  for (const [k, n] of Object.entries(from)) countInto(into, k, n, max);
}
