import {
  addCounts,
  type CmcdReport,
  MAX_BITRATES,
  MAX_REPORT_SESSIONS,
  MAX_SID_LENGTH,
  MAX_TOKENS,
} from '../contract/cmcd-report.ts';

/** A session counts as watching while one of its requests was reported this recently. */
export const SESSION_WINDOW_MS = 5 * 60_000;
/** At most this many session ids are remembered (about 100 bytes each: a few MB at most). */
export const MAX_SESSIONS = 20_000;

/**
 * The event's viewers as the edge isolates' CMCD reports describe them (the operator state's
 * `viewers`; docs/cmcd.md). Kept in memory, not in SQLite: these are operational counters, not
 * part of the event's record, and a durable write per report from every isolate would compete
 * with segment answers in this single-threaded object. They start again from zero when the object
 * restarts (`since` says when), which a live event's busy object rarely does.
 *
 * Sessions are bounded: a map of session id → when last reported, in that order (a report moves
 * its ids to the end), so ids older than the window are dropped from the front, and beyond
 * MAX_SESSIONS the oldest go first (counted in `evicted`).
 */
export class ViewerCounts {
  private readonly since: number;
  private readonly sessions = new Map<string, number>();
  private sessionsSeen = 0;
  private sessionsEvicted = 0;
  private sessionsDropped = 0;
  private readonly requests = { withCmcd: 0, withoutCmcd: 0, malformed: 0 };
  private readonly bitrateKbps: Record<string, Record<string, number>> = {};
  private bufferStarvation = 0;
  private startup = 0;
  private readonly streamType: Record<string, number> = {};
  private readonly streamingFormat: Record<string, number> = {};
  private readonly objectType: Record<string, number> = {};
  private reports = 0;

  private readonly windowMs: number;
  private readonly maxSessions: number;

  constructor(nowMs: number, windowMs = SESSION_WINDOW_MS, maxSessions = MAX_SESSIONS) {
    this.since = nowMs;
    this.windowMs = windowMs;
    this.maxSessions = maxSessions;
  }

  add(report: CmcdReport, nowMs: number): void {
    this.reports++;
    this.requests.withCmcd += count(report.requests?.withCmcd);
    this.requests.withoutCmcd += count(report.requests?.withoutCmcd);
    this.requests.malformed += count(report.requests?.malformed);
    // An RPC argument is trusted code's, but bounded here anyway: this map is what could grow.
    for (const raw of (report.sessions ?? []).slice(0, MAX_REPORT_SESSIONS)) {
      if (typeof raw !== 'string') continue;
      const sid = raw.slice(0, MAX_SID_LENGTH);
      if (!this.sessions.delete(sid)) this.sessionsSeen++;
      this.sessions.set(sid, nowMs);
    }
    while (this.sessions.size > this.maxSessions) {
      this.sessions.delete(this.sessions.keys().next().value!);
      this.sessionsEvicted++;
    }
    this.sessionsDropped += count(report.sessionsDropped);
    for (const [ot, byKbps] of Object.entries(report.bitrateKbps ?? {})) {
      if (!(ot in this.bitrateKbps) && Object.keys(this.bitrateKbps).length >= MAX_TOKENS) continue;
      this.bitrateKbps[ot] ??= {};
      addCounts(this.bitrateKbps[ot], byKbps, MAX_BITRATES);
    }
    this.bufferStarvation += count(report.bufferStarvation);
    this.startup += count(report.startup);
    addCounts(this.streamType, report.streamType ?? {}, MAX_TOKENS);
    addCounts(this.streamingFormat, report.streamingFormat ?? {}, MAX_TOKENS);
    addCounts(this.objectType, report.objectType ?? {}, MAX_TOKENS);
  }

  view(nowMs: number) {
    for (const [sid, at] of this.sessions) {
      if (nowMs - at <= this.windowMs) break;
      this.sessions.delete(sid);
    }
    return {
      since: new Date(this.since).toISOString(),
      /** Reports received from edge isolates. */
      reports: this.reports,
      sessions: {
        /** Distinct session ids reported in the last `windowSeconds`. */
        active: this.sessions.size,
        windowSeconds: this.windowMs / 1000,
        /** Distinct session ids since `since` (an id forgotten and seen again counts again). */
        seen: this.sessionsSeen,
        /** Forgotten early because more than MAX_SESSIONS were active. */
        evicted: this.sessionsEvicted,
        /** Requests whose session id an isolate left out of a full report. */
        dropped: this.sessionsDropped,
      },
      requests: { ...this.requests },
      bitrateKbps: structuredClone(this.bitrateKbps),
      bufferStarvation: this.bufferStarvation,
      startup: this.startup,
      streamType: { ...this.streamType },
      streamingFormat: { ...this.streamingFormat },
      objectType: { ...this.objectType },
    };
  }
}

const count = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0);
