import { mutateMedia, type Mutation } from './mutate-media.ts';
import type { Rng } from './rng.ts';

/** Hours at the edges: epoch media time now (~490,000 h), the last hour a Date can show, the last safe integer. */
const HOURS = [
  0, 99, 100, 490_000, 2_399_999_999, 2_400_000_000, 2_400_000_001, 2_501_999_998, 2_501_999_999, 9_999_999_999,
];

const TIMESTAMPS = [
  '00:00.000',
  '59:59.999',
  '00:60.000',
  '-00:01.000',
  '00:00:00.0000',
  '00:00:00,000',
  '1:00.000',
  '',
  '-->',
];

/** A timestamp to put in a cue or in X-TIMESTAMP-MAP's LOCAL: a malformed one, or one at an extreme hour. */
function timestamp(rng: Rng): string {
  if (rng.chance(0.3)) return rng.pick(TIMESTAMPS);
  const hours = rng.chance(0.8) ? rng.pick(HOURS) : rng.int(10 ** rng.range(1, 10));
  return `${String(hours).padStart(2, '0')}:${rng.pick(['00', '59'])}:${rng.pick(['00', '59'])}.${rng.pick(['000', '999'])}`;
}

/**
 * Mutate a WebVTT body: timestamps swapped for extremes, X-TIMESTAMP-MAP edits, header and blank
 * line damage, cue blocks multiplied past the cue cap, long or arrow-carrying text, tags and
 * character references, CRLF and BOM; a third of the time byte-level damage on top (invalid UTF-8,
 * truncation, inserts).
 */
export function mutateWebVtt(rng: Rng, text: string): Mutation {
  let lines = text.split('\n');
  const ops: string[] = [];
  const n = rng.range(1, 3);
  for (let i = 0; i < n; i++) {
    const what = rng.int(11);
    const at = rng.int(lines.length);
    if (what === 0) {
      const timing = lines.findIndex((l) => l.includes('-->'));
      if (timing < 0) continue;
      const [start, end] = lines[timing].split(' --> ');
      const t = timestamp(rng);
      lines[timing] = rng.chance(0.5) ? `${t} --> ${end}` : `${start} --> ${t}`;
      ops.push(`cue time := "${t}"`);
    } else if (what === 1) {
      const mpegTs = rng.pick(['0', '8589934591', '8589934592', '999999999999999', '1e9', '', '-1', '90000']);
      const value = rng.pick([
        `MPEGTS:${mpegTs},LOCAL:${timestamp(rng)}`,
        `MPEGTS:${mpegTs},LOCAL:00:00:00.000`,
        `LOCAL:${timestamp(rng)}`,
        `MPEGTS:${mpegTs}`,
        'MPEGTS:,LOCAL:',
      ]);
      const header = lines.findIndex((l) => l.startsWith('X-TIMESTAMP-MAP='));
      if (header >= 0) lines[header] = `X-TIMESTAMP-MAP=${value}`;
      else lines.splice(1, 0, `X-TIMESTAMP-MAP=${value}`);
      ops.push(`X-TIMESTAMP-MAP=${value}`);
    } else if (what === 2) {
      lines[0] = rng.pick(['', 'WEBVTT FILE', 'WEBVTTX', 'webvtt', '\uFEFFWEBVTT', 'WEBVTT\t-- header']);
      ops.push(`first line := "${lines[0]}"`);
    } else if (what === 3) {
      lines = lines.filter((l) => l !== '' || rng.chance(0.5));
      ops.push('drop blank lines');
    } else if (what === 4) {
      const cue = cueBlock(lines);
      const times = rng.pick([2, 10, 200, 501, 600]);
      if (cue) lines.push('', ...Array.from({ length: times }, () => cue).flatMap((c) => [...c, '']));
      ops.push(`repeat a cue ${times} times`);
    } else if (what === 5) {
      const body = rng.pick([
        'x'.repeat(501),
        'a --> b',
        '<b>bold',
        '&amp;&lt;&gt;&nbsp;&bogus;',
        '<v Speaker>hi</v>',
        '\u0000\u0007',
        '𝄞'.repeat(300),
      ]);
      lines.splice(at + 1, 0, body);
      ops.push(`insert text line "${body.slice(0, 20)}…" at ${at + 1}`);
    } else if (what === 6) {
      lines.splice(at, 1);
      ops.push(`delete line ${at}`);
    } else if (what === 7) {
      lines.splice(at, 0, ...rng.pick([['NOTE', 'a note'], ['STYLE', '::cue {}'], ['REGION'], ['id-only']]));
      ops.push(`insert block at ${at}`);
    } else if (what === 8) {
      lines = lines.map((l) => `${l}\r`);
      ops.push('CRLF');
    } else if (what === 9) {
      lines.splice(at, 0, lines[rng.int(lines.length)] ?? '');
      ops.push(`duplicate a line at ${at}`);
    } else {
      lines.splice(at, 0, '00:00:00.000 --> 00:00:01.000 align:start position:10%', 'positioned');
      ops.push(`insert a cue with settings at ${at}`);
    }
  }
  const bytes = new TextEncoder().encode(lines.join('\n'));
  if (!rng.chance(0.33)) return { bytes, ops };
  const damaged = mutateMedia(rng, bytes, []);
  return { bytes: damaged.bytes, ops: [...ops, ...damaged.ops] };
}

/** The lines of the first cue block (timing line and text), if any. */
function cueBlock(lines: string[]): string[] | undefined {
  const timing = lines.findIndex((l) => l.includes('-->'));
  if (timing < 0) return undefined;
  const end = lines.indexOf('', timing);
  return lines.slice(timing, end < 0 ? undefined : end);
}
