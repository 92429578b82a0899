/**
 * SMPTE ST 2022-7 style seamless protection switching: the same RTP stream arrives over two
 * networks; the merger emits each sequence number once, from whichever path delivered it first,
 * strictly in order. A number missing from both paths is declared lost only when a later packet
 * has been waiting for the whole skew window — the longest the paths may differ in delay — so a
 * packet that is late on one path but present on the other is never lost.
 *
 * The merger owns no timers: the caller injects the clock and calls `tick()` (the UDP receiver
 * does so every few milliseconds), which makes release deterministic in tests.
 */
export const DEFAULT_SKEW_MS = 200;

export interface MergerOptions {
  /** Number of paths (ST 2022-7 uses two). */
  paths?: number;
  /** Largest delay difference between paths that is still merged seamlessly (ms). */
  skewMs?: number;
  now?: () => number;
}

export interface MergedPacket {
  /** Extended (unwrapped) sequence number: keeps counting past 65535. */
  sequence: number;
  /** The path whose copy was emitted (0-based). */
  path: number;
  payload: Uint8Array;
}

export interface PathCounters {
  received: number;
  /** This path's copy was the one emitted. */
  used: number;
  /** Arrived after the other path's copy was already taken (or twice on this path). */
  duplicate: number;
  /** Arrived after its number was declared lost, or too old to still be known. */
  late: number;
  /** Numbers this path did not deliver within the skew window. */
  lost: number;
}

export interface MergeCounters {
  paths: PathCounters[];
  /** Distinct sequence numbers emitted. */
  emitted: number;
  /** Sequence numbers no path delivered in time: real gaps in the merged stream. */
  lost: number;
}

interface Held {
  payload: Uint8Array;
  path: number;
  /** Bit i set: path i delivered this number. */
  delivered: number;
}

/** A decided run of numbers, kept one skew window so late copies can be classified. */
interface Decided {
  from: number;
  to: number;
  outcome: 'emitted' | 'lost';
  decidedAt: number;
  delivered: number;
}

const SEQ_MOD = 0x10000;

export class SeamlessMerger {
  readonly counters: MergeCounters;
  private readonly skewMs: number;
  private readonly now: () => number;
  private readonly pathCount: number;
  private highest: number | undefined;
  private next = 0;
  private firstArrivalAt: number | undefined;
  private started = false;
  private readonly buffer = new Map<number, Held>();
  /** Buffered numbers in arrival order: the head is the earliest-arrived packet still waiting. */
  private arrivals: { seq: number; at: number }[] = [];
  private arrivalsHead = 0;
  private history: Decided[] = [];

  constructor(opts: MergerOptions = {}) {
    this.pathCount = opts.paths ?? 2;
    if (this.pathCount < 1 || this.pathCount > 30) throw new RangeError('between 1 and 30 paths');
    this.skewMs = opts.skewMs ?? DEFAULT_SKEW_MS;
    this.now = opts.now ?? (() => performance.now());
    this.counters = {
      paths: Array.from({ length: this.pathCount }, () => ({ received: 0, used: 0, duplicate: 0, late: 0, lost: 0 })),
      emitted: 0,
      lost: 0,
    };
  }

  /** Packets waiting for an earlier number. */
  get buffered(): number {
    return this.buffer.size;
  }

  /** One packet from `path` with its 16-bit RTP sequence number; returns what can be emitted now. */
  push(path: number, sequenceNumber: number, payload: Uint8Array): MergedPacket[] {
    if (!Number.isInteger(path) || path < 0 || path >= this.pathCount) throw new RangeError(`no path ${path}`);
    const counters = this.counters.paths[path];
    counters.received++;
    const now = this.now();
    const seq = this.extend(sequenceNumber & 0xffff);
    this.firstArrivalAt ??= now;
    if (this.started && seq < this.next) {
      this.classifyOld(path, seq);
    } else {
      const held = this.buffer.get(seq);
      if (held) {
        counters.duplicate++;
        held.delivered |= 1 << path;
      } else {
        this.buffer.set(seq, { payload, path, delivered: 1 << path });
        this.arrivals.push({ seq, at: now });
      }
    }
    return this.release(now, false);
  }

  /** Timer-driven release: declares gaps lost once the skew window has passed. */
  tick(): MergedPacket[] {
    return this.release(this.now(), false);
  }

  /** End of stream: emit everything held (remaining gaps are lost) and settle all counters. */
  flush(): MergedPacket[] {
    return this.release(this.now(), true);
  }

  /** Unwrap a 16-bit number to the extended number nearest the highest seen so far. */
  private extend(seq16: number): number {
    if (this.highest === undefined) {
      this.highest = seq16;
      return seq16;
    }
    const ref = this.highest;
    const delta = ((seq16 - (ref % SEQ_MOD) + SEQ_MOD + 0x8000) % SEQ_MOD) - 0x8000;
    const seq = ref + delta;
    if (seq > ref) this.highest = seq;
    return seq;
  }

  private release(now: number, force: boolean): MergedPacket[] {
    const out: MergedPacket[] = [];
    if (!this.started) {
      // Wait one skew window before the first emission: the lagging path's earlier numbers (or a
      // packet reordered ahead of the first) still count, and the stream starts at the lowest.
      if (this.buffer.size === 0 || (!force && now - this.firstArrivalAt! < this.skewMs)) return out;
      this.started = true;
      this.next = this.lowestBuffered();
    }
    while (this.buffer.size > 0) {
      const held = this.buffer.get(this.next);
      if (held) {
        this.buffer.delete(this.next);
        out.push({ sequence: this.next, path: held.path, payload: held.payload });
        this.counters.paths[held.path].used++;
        this.counters.emitted++;
        this.history.push({
          from: this.next,
          to: this.next + 1,
          outcome: 'emitted',
          decidedAt: now,
          delivered: held.delivered,
        });
        this.next++;
        continue;
      }
      const waitingSince = this.earliestWaitingArrival();
      if (!force && (waitingSince === undefined || now - waitingSince < this.skewMs)) break;
      const resume = this.lowestBuffered();
      const count = resume - this.next;
      this.counters.lost += count;
      for (const p of this.counters.paths) p.lost += count;
      this.history.push({ from: this.next, to: resume, outcome: 'lost', decidedAt: now, delivered: 0 });
      this.next = resume;
    }
    this.settle(now, force);
    return out;
  }

  private lowestBuffered(): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const seq of this.buffer.keys()) if (seq < lowest) lowest = seq;
    return lowest;
  }

  private earliestWaitingArrival(): number | undefined {
    while (this.arrivalsHead < this.arrivals.length && !this.buffer.has(this.arrivals[this.arrivalsHead].seq))
      this.arrivalsHead++;
    if (this.arrivalsHead > 1024 && this.arrivalsHead * 2 > this.arrivals.length) {
      this.arrivals = this.arrivals.slice(this.arrivalsHead);
      this.arrivalsHead = 0;
    }
    return this.arrivals[this.arrivalsHead]?.at;
  }

  /** A copy of a number already emitted (duplicate) or given up on (late). */
  private classifyOld(path: number, seq: number): void {
    const counters = this.counters.paths[path];
    const record = this.findDecided(seq);
    if (record?.outcome === 'emitted') {
      counters.duplicate++;
      record.delivered |= 1 << path;
    } else {
      counters.late++;
    }
  }

  private findDecided(seq: number): Decided | undefined {
    let lo = 0;
    let hi = this.history.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.history[mid];
      if (seq < r.from) hi = mid - 1;
      else if (seq >= r.to) lo = mid + 1;
      else return r;
    }
    return undefined;
  }

  /** One skew window after a number was emitted, a path that has not delivered it lost it. */
  private settle(now: number, all: boolean): void {
    let done = 0;
    while (done < this.history.length && (all || now - this.history[done].decidedAt >= this.skewMs)) {
      const r = this.history[done++];
      if (r.outcome !== 'emitted') continue;
      for (let p = 0; p < this.pathCount; p++) if ((r.delivered & (1 << p)) === 0) this.counters.paths[p].lost++;
    }
    if (done > 0) this.history.splice(0, done);
  }
}
