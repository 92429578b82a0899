import { basicChar, extendedChar, specialChar } from './charset.ts';
import { checkOddParity } from './parity.ts';
import type { CcPair } from './pop-on-encoder.ts';

/** A caption as shown on screen from startMs (inclusive) to endMs (exclusive), UTC ms. */
export interface DecodedCue {
  startMs: number;
  endMs: number;
  text: string;
}

type Mode = 'pop-on' | 'roll-up' | 'paint-on' | undefined;
type Memory = { rows: string[][]; trusted: boolean };

const ROWS = 15;
/** A piece of a long caption is cut this long after its boundary at most (less with shorter segments). */
const SPLIT_AFTER_MS = 2000;
const COLS = 32;
/** Row (1-15) of a PAC by its first byte (channel 1) and bit 5 of the second byte. */
const PAC_ROW: Record<number, [number, number]> = {
  0x11: [1, 2],
  0x12: [3, 4],
  0x15: [5, 6],
  0x16: [7, 8],
  0x17: [9, 10],
  0x10: [11, 11],
  0x13: [12, 13],
  0x14: [14, 15],
};

const blank = (): string[][] => Array.from({ length: ROWS }, () => new Array<string>(COLS).fill(''));
const screenText = (rows: string[][]) =>
  rows
    .map((r) =>
      r
        .map((c) => c || ' ')
        .join('')
        .trim(),
    )
    .filter((line) => line.length > 0)
    .join('\n');

/**
 * A CEA-608 decoder for CC1 (field 1, data channel 1) that turns what is on screen into cues.
 *
 * - Pop-on: a cue from each EOC (the loaded caption appears) to the next EOC or EDM.
 * - Roll-up: at each carriage return the window (2-4 rows, the completed line at the bottom)
 *   becomes a cue until the next one: a line shows once it is complete, not letter by letter,
 *   and a line erased (EDM) before its carriage return is not shown at all.
 * - Paint-on: what was painted becomes a cue at the next RDC (one caption late; rare live).
 *
 * A cue is emitted only when its whole life was seen: a decoder that joins the feed mid-caption
 * (a bridge restarting) does not know what was loaded before it came, so until it sees a caption
 * begin (RCL/ENM, EDM, a full roll) it stays quiet instead of posting a fragment. That is what lets
 * two bridges on the same feed post identical cues, which the origin stores once.
 *
 * A caption that stays up longer than a segment is cut at multiples of `splitMs` (the segment
 * duration) and posted piece by piece, while its segments can still take it (the origin refuses
 * cues for a segment that is final). The cut points are on the UTC grid, so both bridges cut
 * identically, and players see no difference: text segments clip cues at those boundaries anyway.
 * A piece is cut once the caption has outlasted its boundary by min(splitMs, 2 s): a caption that
 * ends sooner is posted whole (no slivers), and a piece is never posted later than 2 s after its
 * segment ends, well inside the origin's settle window (docs/captions.md) whatever the segment
 * duration.
 */
export class Cc1Decoder {
  private readonly onCue: (cue: DecodedCue) => void;
  private readonly splitMs: number;
  private mode: Mode;
  private displayed: Memory = { rows: blank(), trusted: false };
  private loading: Memory = { rows: blank(), trusted: false };
  private row = ROWS - 1;
  private col = 0;
  private rollRows = 2;
  /** Carriage returns since the roll-up window was last known to be complete. */
  private rolls = 0;
  /** Data channel of the last control code: characters after a CC2 code belong to CC2. */
  private channel = 1;
  private lastControl: number | undefined;
  private open: { startMs: number; text: string } | undefined;

  constructor(opts: { onCue: (cue: DecodedCue) => void; splitMs?: number }) {
    this.onCue = opts.onCue;
    this.splitMs = opts.splitMs ?? 0;
  }

  /**
   * The feed was interrupted: what is on screen is no longer known. The cue on screen is dropped,
   * not posted cut short: its end was not seen, and a bridge whose feed went on posts it whole, so
   * a shortened copy would show the text twice. Returns whether one was dropped, for the counters.
   */
  reset(): boolean {
    const dropped = this.open !== undefined;
    this.mode = undefined;
    this.displayed = { rows: blank(), trusted: false };
    this.loading = { rows: blank(), trusted: false };
    this.open = undefined;
    this.lastControl = undefined;
    this.channel = 1;
    return dropped;
  }

  /** One picture's field-1 pairs, pictures in presentation order, at the picture's UTC time. */
  picture(timeMs: number, pairs: readonly CcPair[]): void {
    this.split(timeMs);
    for (const pair of pairs) this.pair(timeMs, pair);
  }

  private split(timeMs: number): void {
    if (!this.splitMs || !this.open) return;
    // Cut at the first boundary after the start once the cue outlasts it by min(D, 2 s): a cue
    // ending sooner is posted whole (no slivers), a longer one in time for its segments.
    const cut = (Math.floor(this.open.startMs / this.splitMs) + 1) * this.splitMs;
    if (timeMs < cut + Math.min(this.splitMs, SPLIT_AFTER_MS)) return;
    this.onCue({ startMs: this.open.startMs, endMs: cut, text: this.open.text });
    this.open = { startMs: cut, text: this.open.text };
    this.split(timeMs);
  }

  private pair(timeMs: number, [b1, b2]: CcPair): void {
    const c1 = checkOddParity(b1);
    const c2 = checkOddParity(b2);
    if (c1 === undefined || c2 === undefined) return; // a damaged pair is dropped, as decoders do
    if (c1 === 0 && c2 === 0) return; // padding
    if (c1 >= 0x10 && c1 <= 0x1f) {
      const code = (c1 << 8) | c2;
      // Control codes come twice; the repeat is ignored once.
      if (this.lastControl === code) {
        this.lastControl = undefined;
        return;
      }
      this.lastControl = code;
      this.channel = c1 & 0x08 ? 2 : 1;
      if (this.channel === 1) this.control(timeMs, c1, c2);
      return;
    }
    this.lastControl = undefined;
    if (this.channel !== 1 || c1 < 0x20) return;
    this.write(basicChar(c1));
    if (c2 >= 0x20) this.write(basicChar(c2));
  }

  private control(timeMs: number, c1: number, c2: number): void {
    if ((c1 === 0x14 || c1 === 0x15) && c2 >= 0x20 && c2 <= 0x2f) return this.command(timeMs, c2);
    if (c1 === 0x17 && c2 >= 0x21 && c2 <= 0x23) return void (this.col = Math.min(COLS - 1, this.col + (c2 - 0x20))); // tab offset
    if (c1 === 0x11 && c2 >= 0x20 && c2 <= 0x2f) return this.write(' '); // mid-row style change shows as a space
    if (c1 === 0x11 && c2 >= 0x30 && c2 <= 0x3f) return this.write(specialChar(c2));
    if ((c1 === 0x12 || c1 === 0x13) && c2 >= 0x20 && c2 <= 0x3f) {
      // An extended character replaces the basic one sent before it for older decoders.
      this.col = Math.max(0, this.col - 1);
      return this.write(extendedChar(c1, c2));
    }
    if (c2 >= 0x40 && c2 <= 0x7f && PAC_ROW[c1]) return this.pac(c1, c2);
  }

  private command(timeMs: number, c2: number): void {
    switch (c2) {
      case 0x20: // RCL: pop-on; a caption load begins here, so from now on the loading memory is known
        this.setMode('pop-on');
        this.loading.trusted = true;
        return;
      case 0x25:
      case 0x26:
      case 0x27: // RU2-RU4
        this.setMode('roll-up');
        this.rollRows = c2 - 0x23;
        return;
      case 0x29: // RDC: paint-on
        this.commit(timeMs);
        this.setMode('paint-on');
        return;
      case 0x21: // BS
        this.col = Math.max(0, this.col - 1);
        this.target().rows[this.row][this.col] = '';
        return;
      case 0x24: // DER: delete to end of row
        this.target().rows[this.row].fill('', this.col);
        return;
      case 0x2c: // EDM
        this.displayed = { rows: blank(), trusted: true };
        this.rolls = 0;
        this.commit(timeMs);
        return;
      case 0x2d: // CR: roll the window up one row
        if (this.mode !== 'roll-up') return;
        // The window as the line completes: it stays the cue until the next line completes.
        this.commit(timeMs);
        this.rollUp();
        return;
      case 0x2e: // ENM
        this.loading = { rows: blank(), trusted: true };
        return;
      case 0x2f: // EOC: the loaded caption appears
        this.setMode('pop-on');
        [this.displayed, this.loading] = [this.loading, this.displayed];
        this.commit(timeMs);
        return;
    }
  }

  /** Changing between pop-on and roll-up or paint-on erases the screen (CEA-608 §9.2). */
  private setMode(mode: Mode): void {
    if (this.mode === mode) return;
    const wasKnown = this.mode !== undefined;
    if (wasKnown && (mode === 'roll-up' || this.mode === 'roll-up')) {
      this.displayed = { rows: blank(), trusted: true };
      this.loading = { rows: blank(), trusted: this.loading.trusted };
    }
    if (mode === 'roll-up') {
      this.row = ROWS - 1;
      this.col = 0;
      this.rolls = 0;
    }
    this.mode = mode;
  }

  private pac(c1: number, c2: number): void {
    const row = PAC_ROW[c1][c1 === 0x10 ? 0 : (c2 & 0x20) >> 5] - 1;
    if (this.mode === 'roll-up' && row !== this.row) {
      // The window moves to the new base row, keeping its contents.
      const rows = this.displayed.rows;
      const moved = blank();
      for (let i = 0; i < this.rollRows; i++) {
        const from = this.row - i;
        const to = row - i;
        if (from >= 0 && to >= 0) moved[to] = rows[from];
      }
      this.displayed.rows = moved;
    }
    this.row = row;
    this.col = c2 & 0x10 ? ((c2 & 0x0e) >> 1) * 4 : 0;
  }

  private rollUp(): void {
    const rows = this.displayed.rows;
    const top = this.row - this.rollRows + 1;
    for (let r = 0; r < ROWS; r++) if (r < top || r > this.row) rows[r] = new Array<string>(COLS).fill('');
    for (let r = Math.max(0, top); r < this.row; r++) rows[r] = rows[r + 1];
    rows[this.row] = new Array<string>(COLS).fill('');
    this.col = 0;
    // Once the window has rolled all its rows, nothing from before this decoder started is left.
    if (++this.rolls >= this.rollRows) this.displayed.trusted = true;
  }

  private target(): Memory {
    return this.mode === 'pop-on' ? this.loading : this.displayed;
  }

  private write(ch: string): void {
    if (this.mode === undefined) return; // joined mid-stream: which memory this is for is unknown
    this.target().rows[this.row][this.col] = ch;
    this.col = Math.min(COLS - 1, this.col + 1);
  }

  /** The screen changed at `timeMs`: end the cue on screen and start the next. */
  private commit(timeMs: number): void {
    const text = this.displayed.trusted ? screenText(this.displayed.rows) : '';
    if (this.open && this.open.text === text) return;
    if (this.open && timeMs > this.open.startMs)
      this.onCue({ startMs: this.open.startMs, endMs: timeMs, text: this.open.text });
    this.open = text ? { startMs: timeMs, text } : undefined;
  }
}
