/**
 * CEA-608 character sets as Unicode (CEA-608-E §4.2, Tables 50-53): the basic set is ASCII
 * except ten codes, plus the special set (0x11 0x30-0x3F) and the two extended sets
 * (0x12/0x13 0x20-0x3F), which replace the character sent just before them.
 */
const BASIC_EXCEPTIONS: Record<number, string> = {
  0x2a: 'á',
  0x5c: 'é',
  0x5e: 'í',
  0x5f: 'ó',
  0x60: 'ú',
  0x7b: 'ç',
  0x7c: '÷',
  0x7d: 'Ñ',
  0x7e: 'ñ',
  0x7f: '■',
};
// 0x39 is the transparent space: a space that shows the picture through, here a plain space.
const SPECIAL = [...'®°½¿™¢£♪à èâêîôû'];
const EXTENDED_12 = [...'ÁÉÓÚÜü‘¡*’─©℠•“”ÀÂÇÈÊËëÎÏïÔÙùÛ«»'];
const EXTENDED_13 = [...'ÃãÍÌìÒòÕõ{}\\^_|~ÄäÖöß¥¤│ÅåØø┌┐└┘'];

/** A basic-set character (0x20-0x7F, parity removed). */
export function basicChar(code: number): string {
  return BASIC_EXCEPTIONS[code] ?? String.fromCharCode(code);
}

/** A special character: second byte 0x30-0x3F after 0x11 (channel 1). */
export function specialChar(code: number): string {
  return SPECIAL[code - 0x30];
}

/** An extended character: first byte 0x12 or 0x13, second 0x20-0x3F. */
export function extendedChar(first: number, code: number): string {
  return (first === 0x12 ? EXTENDED_12 : EXTENDED_13)[code - 0x20];
}
