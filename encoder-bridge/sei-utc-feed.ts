import { PTS_CLOCK_HZ, unwrapPts, wrapPts } from '../contract/epoch.ts';
import { concat } from '../packager/bmff/box-writer.ts';
import { TsCcReader } from './cea608/ts-cc-reader.ts';
import { restampTs } from './sei-utc-restamp.ts';
import { utcOfSeiNal } from './sei-utc.ts';
import { firstPts } from './ts-timestamps.ts';

/**
 * Where a feed's UTC comes from (docs/architecture.md "Carrying UTC per frame"):
 * - `sei`: a UTC SEI on the pictures (contract/utc-sei.ts); the PTS may start anywhere and wrap.
 * - `pts`: the PTS is UTC mod 2^33 (the default carrier).
 * - `arrival`: neither; stamped with this bridge's clock when the feed arrived (`--utc-source
 *   arrival`). Another bridge stamps the same pictures differently, so A and B are NOT
 *   interchangeable: not redundant-safe.
 */
export type UtcCarrier = 'sei' | 'pts' | 'arrival';

/** A PTS-carrier feed whose PTS, read as UTC, is further than this from our clock is refused: its PTS is not UTC. */
export const MAX_FEED_CLOCK_SKEW_MS = 10 * 60_000;
/** How many pictures to look for a UTC SEI before deciding the feed has none. */
export const SEI_WAIT_PICTURES = 15;
/** Held feed at most while deciding (a feed without video): decided from what is there. */
const MAX_HELD_BYTES = 8 * 2 ** 20;
const NOTHING = new Uint8Array(0);

export interface FeedUtcStatus {
  /** null while deciding (the first SEI_WAIT_PICTURES pictures of a feed). */
  utcCarrier: UtcCarrier | null;
  /** Why this feed is not encoded (no usable UTC), null when it is. */
  refusal: string | null;
  /** Pictures whose UTC SEI disagreed with the feed's PTS→UTC mapping by more than 1 ms. */
  seiMismatches: number;
}

/**
 * Finds one feed's UTC carrier and maps its PTS onto UTC. Every timestamp of an SEI (or arrival)
 * feed is moved by one offset, `UTC − PTS` from the first picture's SEI (sei-utc-restamp.ts), so
 * what follows sees a PTS-carrier feed of the same pictures: the same K, tfdt, samples and
 * keyframes. The feed is held until the carrier is known: a UTC SEI on the first picture (then
 * on any of the first SEI_WAIT_PICTURES, for encoders that send it on keyframes only), else a PTS
 * that reads as UTC (decided at the first picture, so a PTS feed waits one frame). A feed without usable UTC is refused (status, one log line) and nothing
 * of it passes: numbering it from a PTS that is not UTC would publish wrong K.
 *
 * One instance per feed connection (Pipeline makes a new one at each end of feed).
 */
export class FeedUtc {
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private carrier: UtcCarrier | undefined;
  private offsetTicks = 0;
  private refusal: string | undefined;
  private pictures = 0;
  private firstSei: { pts: number; utc: number } | undefined;
  private seiMismatches = 0;
  private readonly reader: TsCcReader;
  private readonly opts: { log: (m: string) => void; now: () => number; arrival: boolean; maxSkewMs: number };

  constructor(opts: {
    log: (message: string) => void;
    now?: () => number;
    /** `--utc-source arrival`: a feed with neither SEI nor a UTC PTS is stamped on arrival instead of refused. */
    arrival?: boolean;
    maxSkewMs?: number;
  }) {
    this.opts = {
      log: opts.log,
      now: opts.now ?? Date.now,
      arrival: opts.arrival ?? false,
      maxSkewMs: opts.maxSkewMs ?? MAX_FEED_CLOCK_SKEW_MS,
    };
    this.reader = new TsCcReader({ onPicture: () => {}, onSei: (pts, nals) => this.picture(pts, nals) });
  }

  status(): FeedUtcStatus {
    return { utcCarrier: this.carrier ?? null, refusal: this.refusal ?? null, seiMismatches: this.seiMismatches };
  }

  /** Whole TS packets in; the packets to encode out (restamped to UTC; nothing while deciding or refused). */
  push(packets: Uint8Array): Uint8Array {
    if (this.refusal) return NOTHING;
    if (this.carrier === undefined || this.carrier === 'sei') this.reader.push(packets);
    if (this.carrier === undefined) {
      // Before the first timestamp nothing needs mapping (the pipeline waits for a PTS anyway): pass it on.
      if (this.held.length === 0 && firstPts(packets) === undefined) return packets;
      this.held.push(packets);
      this.heldBytes += packets.length;
      if (!this.decidable()) return NOTHING;
      const held = concat(this.held);
      this.held = [];
      this.heldBytes = 0;
      this.decide(held);
      if (this.refusal) return NOTHING;
      return this.restamp(held);
    }
    return this.restamp(packets);
  }

  /** Enough seen: a UTC SEI, a first picture without one whose PTS reads as UTC, or SEI_WAIT_PICTURES pictures. */
  private decidable(): boolean {
    if (this.firstSei || this.pictures >= SEI_WAIT_PICTURES || this.heldBytes >= MAX_HELD_BYTES) return true;
    if (this.pictures === 0) return false;
    const nowMs = this.opts.now();
    const pts = firstPts(this.held[0])!; // the first held chunk has one (push)
    return Math.abs(unwrapPts(pts, nowMs).ticks / (PTS_CLOCK_HZ / 1000) - nowMs) <= this.opts.maxSkewMs;
  }

  private restamp(packets: Uint8Array): Uint8Array {
    return this.carrier === 'pts' ? packets : restampTs(packets, this.offsetTicks);
  }

  private picture(pts: number, nals: Uint8Array[]): void {
    this.pictures++;
    let utc: number | undefined;
    for (const nal of nals) utc ??= utcOfSeiNal(nal);
    if (utc === undefined) return;
    if (!this.firstSei) {
      this.firstSei = { pts, utc };
      return;
    }
    if (this.carrier !== 'sei') return;
    const mapped = unwrapPts(wrapPts(pts + this.offsetTicks), utc / 90).ticks;
    if (Math.abs(mapped - utc) > 90) this.seiMismatches++;
  }

  private decide(held: Uint8Array): void {
    const nowMs = this.opts.now();
    const pts = firstPts(held);
    if (this.firstSei) {
      this.carrier = 'sei';
      this.offsetTicks = wrapPts(this.firstSei.utc - this.firstSei.pts);
      this.checkSkew(this.firstSei.utc / 90, nowMs, 'its UTC SEI');
      if (!this.refusal)
        this.opts.log(
          `UTC from the feed's SEI: PTS ${this.firstSei.pts} is ${new Date(Math.floor(this.firstSei.utc / 90)).toISOString()} (PTS → UTC offset ${this.offsetTicks} ticks mod 2^33)`,
        );
      return;
    }
    if (pts === undefined) {
      this.carrier = 'pts'; // no timestamps at all: nothing will be encoded from this anyway
      return;
    }
    const asUtcMs = unwrapPts(pts, nowMs).ticks / (PTS_CLOCK_HZ / 1000);
    if (this.opts.arrival && Math.abs(asUtcMs - nowMs) > this.opts.maxSkewMs) {
      this.carrier = 'arrival';
      this.offsetTicks = wrapPts(Math.round(nowMs * 90) - pts);
      this.opts.log(
        `UTC from the arrival clock (--utc-source arrival): no UTC SEI and the PTS is not UTC; NOT redundant-safe, another pipeline numbers these frames differently`,
      );
      return;
    }
    this.carrier = 'pts';
    this.checkSkew(asUtcMs, nowMs, `no UTC SEI in its first ${this.pictures} pictures, and its PTS read as UTC`);
  }

  private checkSkew(feedMs: number, nowMs: number, what: string): void {
    const skewMs = feedMs - nowMs;
    if (Math.abs(skewMs) <= this.opts.maxSkewMs) return;
    this.refusal = `no usable UTC in the feed: ${what} is ${formatSkew(skewMs)} this bridge's clock (more than ${this.opts.maxSkewMs / 60_000} min): not encoded, so no segment is numbered wrongly; send UTC in the PTS or in SEI (docs/architecture.md "Carrying UTC per frame")`;
    this.opts.log(`contribution refused: ${this.refusal}`);
  }
}

function formatSkew(ms: number): string {
  const a = Math.abs(ms);
  const h = Math.floor(a / 3_600_000);
  const m = Math.floor((a % 3_600_000) / 60_000);
  const s = Math.floor((a % 60_000) / 1000);
  return `${h ? `${h} h ` : ''}${h || m ? `${m} min ` : ''}${s} s ${ms < 0 ? 'behind' : 'ahead of'}`;
}
