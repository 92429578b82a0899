import { PTS_CLOCK_HZ, wrapPts } from '../../contract/epoch.ts';
import { cuesInSegment, type Cue } from './cue.ts';
import { clockTime } from './timestamp.ts';

/**
 * WebVTT segment K for an HLS SUBTITLES rendition (RFC 8216 §3.5).
 *
 * Cue times are written relative to the start of the segment, and
 * `X-TIMESTAMP-MAP=MPEGTS:<K·D at 90 kHz, wrapped to 33 bits>,LOCAL:00:00:00.000` says where
 * that start sits on the media timeline. Our fMP4 media has tfdt = K·D·timescale since the Unix
 * epoch; players map fMP4 time to 90 kHz MPEG-TS time and compare modulo 2^33 (hls.js:
 * webvtt-parser.ts normalizePts), so the wrapped value places each cue exactly where the frames
 * of the same UTC instant are. Checked in Chromium with hls.js by test/captions-playback.test.ts.
 * Relative times keep every number small and every segment self-contained (cues are clipped to
 * the segment, see cue.ts).
 */
export function writeVttSegment(cues: readonly Cue[], k: number, durationMs: number): string {
  const startMs = k * durationMs;
  const mpegTs = wrapPts(startMs * (PTS_CLOCK_HZ / 1000));
  const lines = ['WEBVTT', `X-TIMESTAMP-MAP=MPEGTS:${mpegTs},LOCAL:00:00:00.000`, ''];
  for (const cue of cuesInSegment(cues, k, durationMs)) {
    lines.push(
      `${clockTime(cue.startMs - startMs)} --> ${clockTime(cue.endMs - startMs)}`,
      ...vttTextLines(cue.text),
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Cue payload lines: markup characters escaped, and no blank line (it would end the cue) or "-->". */
export function vttTextLines(text: string): string[] {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => line.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').trim())
    .filter((line) => line.length > 0);
}
