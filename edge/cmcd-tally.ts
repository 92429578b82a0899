import {
  type CmcdReport,
  countInto,
  emptyCmcdReport,
  MAX_BITRATES,
  MAX_REPORT_SESSIONS,
  MAX_SID_LENGTH,
  MAX_TOKENS,
} from '../contract/cmcd-report.ts';
import { type CmcdReading, firstNumber } from './cmcd.ts';

/** An isolate reports an event's CMCD to its origin at most this often (docs/cmcd.md). */
export const CMCD_REPORT_INTERVAL_MS = 5000;
/** At most this many events with unreported counts per isolate; requests of others are not counted. */
const MAX_EVENTS = 256;

/**
 * What one edge isolate's players sent as CMCD, per event, since its last report to the event's
 * origin. The isolate adds up in memory and sends one report every CMCD_REPORT_INTERVAL_MS at
 * most, so the single-threaded origin object receives one small RPC per isolate and interval,
 * not one per player request.
 */
export class CmcdTally {
  private readonly pending = new Map<string, { report: CmcdReport; sids: Set<string> }>();
  private readonly lastReport = new Map<string, number>();
  /** Requests not counted because MAX_EVENTS events already had unreported counts. */
  dropped = 0;

  record(event: string, reading: CmcdReading): void {
    let entry = this.pending.get(event);
    if (!entry) {
      if (this.pending.size >= MAX_EVENTS) {
        this.dropped++;
        return;
      }
      entry = { report: emptyCmcdReport(), sids: new Set() };
      this.pending.set(event, entry);
    }
    const r = entry.report;
    if (reading.state === 'absent') {
      r.requests.withoutCmcd++;
      return;
    }
    if (reading.state === 'malformed') {
      r.requests.malformed++;
      return;
    }
    r.requests.withCmcd++;
    const d = reading.data;
    if (typeof d.sid === 'string' && d.sid !== '') {
      const sid = d.sid.slice(0, MAX_SID_LENGTH);
      if (entry.sids.size < MAX_REPORT_SESSIONS) entry.sids.add(sid);
      else if (!entry.sids.has(sid)) r.sessionsDropped++;
    }
    // Counted by CMCD's own tokens only: a player-chosen string never becomes a key of the report
    // (no "__proto__", no endless distinct keys).
    const ot = token(d.ot, OBJECT_TYPES);
    const br = firstNumber(d.br);
    if (br !== undefined && br >= 0) {
      r.bitrateKbps[ot] ??= {};
      countInto(r.bitrateKbps[ot], String(Math.round(br)), 1, MAX_BITRATES);
    }
    if (d.bs === true) r.bufferStarvation++;
    if (d.su === true) r.startup++;
    if (d.st !== undefined) countInto(r.streamType, token(d.st, STREAM_TYPES), 1, MAX_TOKENS);
    if (d.sf !== undefined) countInto(r.streamingFormat, token(d.sf, STREAMING_FORMATS), 1, MAX_TOKENS);
    if (d.ot !== undefined) countInto(r.objectType, ot, 1, MAX_TOKENS);
  }

  /**
   * The event's counts to report now, or undefined: nothing new, or the last report was less
   * than the interval ago (unless `force`). Taking a report resets the event's counts.
   */
  take(event: string, nowMs: number, force = false): CmcdReport | undefined {
    const entry = this.pending.get(event);
    if (!entry) return undefined;
    if (!force && nowMs - (this.lastReport.get(event) ?? Number.NEGATIVE_INFINITY) < CMCD_REPORT_INTERVAL_MS)
      return undefined;
    this.pending.delete(event);
    // Insertion order is report order: the map of report times stays as small as `pending`.
    this.lastReport.delete(event);
    this.lastReport.set(event, nowMs);
    if (this.lastReport.size > MAX_EVENTS * 4) this.lastReport.delete(this.lastReport.keys().next().value!);
    return { ...entry.report, sessions: [...entry.sids] };
  }

  /** Events with unreported counts (for the operator view of this isolate). */
  get pendingEvents(): number {
    return this.pending.size;
  }
}

/** CTA-5004 token values (object type, stream type, streaming format); anything else counts as '?'. */
const OBJECT_TYPES = new Set(['m', 'a', 'v', 'av', 'i', 'c', 'tt', 'k', 'o']);
const STREAM_TYPES = new Set(['v', 'l', 'll']);
const STREAMING_FORMATS = new Set(['d', 'h', 's', 'o']);
const token = (value: unknown, known: Set<string>): string =>
  typeof value === 'string' && known.has(value) ? value : '?';
