import { withOddParity } from './parity.ts';

/** One CEA-608 byte pair as sent on field 1, parity already applied. */
export type CcPair = readonly [number, number];

/** CC1 (channel 1, field 1) miscellaneous control codes, first byte 0x14. */
const RCL = 0x20; // resume caption loading: select pop-on mode
const ENM = 0x2e; // erase non-displayed memory
const EOC = 0x2f; // end of caption: swap memories, the loaded caption appears
export const EDM = 0x2c; // erase displayed memory
export const MAX_ROW_CHARS = 32;

/** PAC (preamble address code) first/second byte base for rows 1-15, CC1, white, column 0. */
const PAC_ROWS: readonly (readonly [number, number])[] = [
  [0x11, 0x40],
  [0x11, 0x60],
  [0x12, 0x40],
  [0x12, 0x60],
  [0x15, 0x40],
  [0x15, 0x60],
  [0x16, 0x40],
  [0x16, 0x60],
  [0x17, 0x40],
  [0x17, 0x60],
  [0x10, 0x40],
  [0x13, 0x40],
  [0x13, 0x60],
  [0x14, 0x40],
  [0x14, 0x60],
];

/** Characters of the basic North-American set that differ from ASCII at the same code. */
const NOT_ASCII = new Map([
  ['á', 0x2a],
  ['é', 0x5c],
  ['í', 0x5e],
  ['ó', 0x5f],
  ['ú', 0x60],
  ['ç', 0x7b],
  ['÷', 0x7c],
  ['Ñ', 0x7d],
  ['ñ', 0x7e],
  ['■', 0x7f],
]);
/** ASCII characters whose codes the basic set gives to the letters above. */
const ASCII_TAKEN = new Set(['*', '\\', '^', '_', '`', '{', '|', '}', '~']);

/** The basic-set code of a character, or undefined when the basic set cannot show it. */
export function basicCharCode(ch: string): number | undefined {
  const mapped = NOT_ASCII.get(ch);
  if (mapped !== undefined) return mapped;
  const code = ch.charCodeAt(0);
  return ch.length === 1 && code >= 0x20 && code < 0x7f && !ASCII_TAKEN.has(ch) ? code : undefined;
}

const control = (second: number, first = 0x14): CcPair => [withOddParity(first), withOddParity(second)];
/** Control codes are sent twice in a row: a decoder acts once and ignores the repeat, so one lost pair loses nothing. */
const twice = (pair: CcPair): CcPair[] => [pair, pair];

/**
 * The byte pairs of one pop-on caption on CC1: RCL, ENM, a PAC per line (bottom-aligned at row
 * 15, column 0), the text, EOC. The caption appears when the decoder gets the first EOC, so a
 * scheduler places that pair on the frame the caption should show (`eocIndex`). Pop-on is used
 * because its timing is one exact frame, and a decoder joining mid-load sees no half caption.
 * Throws on text the basic character set cannot carry or a line longer than 32 characters.
 */
export function popOnCaption(text: string): { pairs: CcPair[]; eocIndex: number } {
  const lines = text.split('\n');
  if (lines.length > 4) throw new RangeError(`608 caption "${text}": at most 4 lines`);
  const pairs: CcPair[] = [...twice(control(RCL)), ...twice(control(ENM))];
  for (const [i, line] of lines.entries()) {
    if (line.length > MAX_ROW_CHARS)
      throw new RangeError(`608 caption line "${line}": more than ${MAX_ROW_CHARS} characters`);
    const [first, second] = PAC_ROWS[15 - lines.length + i];
    pairs.push(...twice(control(second, first)));
    const codes = [...line].map((ch) => {
      const code = basicCharCode(ch);
      if (code === undefined) throw new RangeError(`608 caption "${text}": "${ch}" is not in the basic character set`);
      return code;
    });
    // A character pair; an odd count ends with a null (0x00) second byte, which decoders skip.
    for (let c = 0; c < codes.length; c += 2) pairs.push([withOddParity(codes[c]), withOddParity(codes[c + 1] ?? 0)]);
  }
  pairs.push(...twice(control(EOC)));
  return { pairs, eocIndex: pairs.length - 2 };
}

/** The pair a field-1 608 stream sends when it has nothing to say (two nulls with parity). */
export const NULL_PAIR: CcPair = [0x80, 0x80];

/** Erase displayed memory (clear the screen), sent twice. */
export const clearScreen = (): CcPair[] => twice(control(EDM));
