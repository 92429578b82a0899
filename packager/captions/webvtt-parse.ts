import { AppError } from '../../contract/errors.ts';
import { PTS_CLOCK_HZ, unwrapPts } from '../../contract/epoch.ts';
import { MAX_CUE_TEXT } from '../../contract/captions.ts';
import type { Cue } from './cue.ts';
import { parseVttTimestamp } from './timestamp.ts';

/** More cues than this in one ingest body is not a 2 s caption segment. */
export const MAX_VTT_CUES = 500;

/**
 * The last millisecond a Date can hold (ECMA-262: ±8.64e15 ms around the epoch). A cue past it
 * has no time anyone can print or compare, and every later step (the origin's checks, the
 * segment writers) formats cue times as dates.
 */
const MAX_MEDIA_MS = 8.64e15;

/**
 * Parse a WebVTT body from the ingest PUT (…/{K}.vtt) into cues on the epoch media timeline.
 *
 * Two ways to say where cues sit, so that a publisher can send what it has:
 * - with `X-TIMESTAMP-MAP=MPEGTS:m,LOCAL:l` in the header (what our own HLS segments carry):
 *   a cue at time t is at media time unwrap(m)/90 kHz + (t − l), the 33-bit MPEGTS unwrapped
 *   with `nowMs` (unambiguous within about ±13 h, as for the contribution feed's PTS);
 * - without it: cue times ARE media time since the Unix epoch ("491234:05:06.000").
 *
 * Cue text is kept as plain text: tags are dropped and the character references WebVTT defines
 * for markup characters are decoded. Settings (position, align) are not kept; our writers place
 * every cue the same way. Any malformed line is a BAD_BODY error that names it.
 */
export function parseWebVtt(body: string, nowMs: number): Cue[] {
  const lines = body.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  if (!/^WEBVTT(?:[ \t].*)?$/.test(lines[0] ?? '')) throw bad(1, 'a WebVTT file starts with the line "WEBVTT"');

  let i = 1;
  let map: { offsetMs: number } | undefined;
  for (; i < lines.length && lines[i] !== ''; i++) {
    if (lines[i].startsWith('X-TIMESTAMP-MAP=')) map = parseTimestampMap(lines[i], i + 1, nowMs);
    else if (lines[i].includes('-->')) throw bad(i + 1, 'a blank line must separate the header from the first cue');
  }

  const cues: Cue[] = [];
  while (i < lines.length) {
    while (i < lines.length && lines[i] === '') i++;
    if (i >= lines.length) break;
    const blockStart = i;
    const block: string[] = [];
    while (i < lines.length && lines[i] !== '') block.push(lines[i++]);
    if (/^(NOTE|STYLE|REGION)(?:[ \t]|$)/.test(block[0])) continue;
    // An optional identifier line comes before the timing line.
    const timingAt = block[0].includes('-->') ? 0 : 1;
    const timing = block[timingAt];
    if (timing === undefined || !timing.includes('-->'))
      throw bad(blockStart + 1, 'a cue needs a timing line "start --> end"');
    const m = /^(\S+)[ \t]+-->[ \t]+(\S+)(?:[ \t].*)?$/.exec(timing);
    const start = m ? parseVttTimestamp(m[1]) : undefined;
    const end = m ? parseVttTimestamp(m[2]) : undefined;
    const lineNo = blockStart + timingAt + 1;
    if (start === undefined || end === undefined)
      throw bad(lineNo, `"${timing.slice(0, 60)}" is not "HH:MM:SS.mmm --> HH:MM:SS.mmm"`);
    if (end <= start) throw bad(lineNo, 'a cue must end after it starts');
    const text = block
      .slice(timingAt + 1)
      .map(plainText)
      .join('\n')
      .trim();
    if (text.includes('-->')) throw bad(lineNo + 1, 'cue text may not contain "-->"');
    if (text.length === 0) continue; // an empty cue shows nothing: nothing to store
    if (text.length > MAX_CUE_TEXT) throw bad(lineNo + 1, `cue text is longer than ${MAX_CUE_TEXT} characters`);
    const offset = map?.offsetMs ?? 0;
    if (start + offset < 0 || end + offset > MAX_MEDIA_MS)
      throw bad(lineNo, 'the cue is outside the epoch media timeline (from 1970 to the last date a clock can show)');
    cues.push({ startMs: start + offset, endMs: end + offset, text });
    if (cues.length > MAX_VTT_CUES) throw new AppError('BAD_BODY', `more than ${MAX_VTT_CUES} cues in one WebVTT body`);
  }
  return cues;
}

function parseTimestampMap(line: string, lineNo: number, nowMs: number): { offsetMs: number } {
  const fields = Object.fromEntries(
    line
      .slice('X-TIMESTAMP-MAP='.length)
      .split(',')
      .map((f) => {
        const at = f.indexOf(':');
        return [f.slice(0, at).trim(), f.slice(at + 1).trim()];
      }),
  );
  const local = parseVttTimestamp(fields.LOCAL ?? '');
  const mpegTs = /^\d{1,15}$/.test(fields.MPEGTS ?? '') ? Number(fields.MPEGTS) : undefined;
  if (local === undefined || mpegTs === undefined)
    throw bad(lineNo, 'X-TIMESTAMP-MAP must be "MPEGTS:<90 kHz ticks>,LOCAL:<HH:MM:SS.mmm>"');
  // A value beyond 33 bits is taken as already unwrapped (hls.js and our reader accept both).
  const ticks = mpegTs >= 2 ** 33 ? mpegTs : unwrapPts(mpegTs, nowMs).ticks;
  return { offsetMs: Math.round(ticks / (PTS_CLOCK_HZ / 1000)) - local };
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', nbsp: '\u00a0', lrm: '\u200e', rlm: '\u200f' };

/** Cue payload line → plain text: tags (<b>, <v Speaker>, <00:01.000>) dropped, references decoded. */
function plainText(line: string): string {
  return line
    .replace(/<[^>]*>/g, '')
    .replace(/&(amp|lt|gt|nbsp|lrm|rlm);/g, (_, name: string) => ENTITIES[name])
    .trim();
}

function bad(lineNo: number, message: string): AppError {
  return new AppError('BAD_BODY', `WebVTT line ${lineNo}: ${message}`);
}
