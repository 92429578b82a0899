import { cuesInSegment, type Cue } from './cue.ts';
import { clockTime } from './timestamp.ts';
import { escapeXml } from '../xml/escape-xml.ts';

/**
 * The IMSC1 text-profile TTML document carried as the one sample of stpp segment K.
 *
 * Timing: ISO/IEC 14496-30 §5.3 says time expressions inside a TTML sample are on the track's
 * media timeline, not relative to the sample (dash.js follows that for DASH and offsets only for
 * Smooth Streaming). Our stpp track has timescale 1000 and tfdt = K·D, so begin/end are media
 * time since the Unix epoch, written as clock time with as many hour digits as needed. Cues are
 * clipped to the sample's interval [K·D, (K+1)·D) (cue.ts), so the document never claims time
 * outside its sample.
 */
export function writeTtml(cues: readonly Cue[], k: number, durationMs: number, language: string): string {
  const paragraphs = cuesInSegment(cues, k, durationMs).map(
    (c) =>
      `      <p begin="${clockTime(c.startMs)}" end="${clockTime(c.endMs)}" region="bottom" style="paragraph"><span style="caption">${ttmlText(c.text)}</span></p>`,
  );
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<tt xmlns="http://www.w3.org/ns/ttml" xmlns:ttp="http://www.w3.org/ns/ttml#parameter" xmlns:tts="http://www.w3.org/ns/ttml#styling" ttp:profile="http://www.w3.org/ns/ttml/profile/imsc1/text" ttp:timeBase="media" xml:lang="${escapeXml(language)}">`,
    '  <head>',
    '    <styling>',
    // Background on the span (inline), as broadcast captions look; alignment on the paragraph.
    '      <style xml:id="paragraph" tts:textAlign="center" tts:fontFamily="proportionalSansSerif" tts:fontSize="100%"/>',
    '      <style xml:id="caption" tts:color="white" tts:backgroundColor="#000000cc"/>',
    '    </styling>',
    '    <layout>',
    '      <region xml:id="bottom" tts:origin="10% 75%" tts:extent="80% 20%" tts:displayAlign="after"/>',
    '    </layout>',
    '  </head>',
    // An empty segment is a valid document with an empty body: the track exists, nothing shows.
    paragraphs.length > 0
      ? ['  <body>', '    <div>', ...paragraphs, '    </div>', '  </body>'].join('\n')
      : '  <body/>',
    '</tt>',
    '',
  ].join('\n');
}

/** Plain text → TTML: markup characters escaped, line breaks as <br/>. */
function ttmlText(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => escapeXml(line.trim()))
    .filter((line) => line.length > 0)
    .join('<br/>');
}
