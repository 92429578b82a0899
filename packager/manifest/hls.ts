import type { ManifestInput } from '../../contract/track.ts';
import { keyTags } from './hls-drm.ts';

export interface PlaylistOptions {
  /** Query string (without `?`) appended to every URI, e.g. `token=…`. */
  query?: string;
}

const AUDIO_GROUP = 'aud';

/**
 * The HLS multivariant playlist: one EXT-X-MEDIA per audio track (all in one group) and one
 * EXT-X-STREAM-INF per video track, highest bandwidth first. URIs are relative to the playlist
 * (`{track}/index.m3u8`) so the same text works behind any host or path prefix.
 */
export function writeMultivariantPlaylist(input: ManifestInput, opts: PlaylistOptions = {}): string {
  const audio = input.tracks.filter((t) => t.kind === 'audio');
  const video = input.tracks.filter((t) => t.kind === 'video').sort((a, b) => b.bandwidth - a.bandwidth);
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  // One session key per distinct key (audio and video may have their own), so players can start the license request early.
  lines.push(...new Set(input.tracks.flatMap((t) => keyTags(t.drm, 'EXT-X-SESSION-KEY'))));

  audio.forEach((t, i) => {
    const attrs = [
      'TYPE=AUDIO',
      `GROUP-ID="${AUDIO_GROUP}"`,
      t.language !== undefined ? `LANGUAGE="${quoted(t.language)}"` : undefined,
      `NAME="${quoted(t.label ?? t.language ?? t.id)}"`,
      `DEFAULT=${i === 0 ? 'YES' : 'NO'}`,
      'AUTOSELECT=YES',
      `CHANNELS="${t.channels ?? 2}"`,
      `URI="${uri(`${t.id}/index.m3u8`, opts.query)}"`,
    ];
    lines.push(`#EXT-X-MEDIA:${attrs.filter(Boolean).join(',')}`);
  });

  // BANDWIDTH is the peak a client needs for the whole variant: video plus the heaviest audio.
  const audioPeak = Math.max(0, ...audio.map((t) => t.bandwidth));
  const audioCodecs = [...new Set(audio.map((t) => t.codecs))];
  for (const v of video) {
    const attrs = [
      `BANDWIDTH=${v.bandwidth + audioPeak}`,
      `CODECS="${quoted([v.codecs, ...audioCodecs].join(','))}"`,
      v.width !== undefined && v.height !== undefined ? `RESOLUTION=${v.width}x${v.height}` : undefined,
      v.frameRate !== undefined ? `FRAME-RATE=${frameRate(v.frameRate).toFixed(3)}` : undefined,
      audio.length > 0 ? `AUDIO="${AUDIO_GROUP}"` : undefined,
    ];
    lines.push(`#EXT-X-STREAM-INF:${attrs.filter(Boolean).join(',')}`, uri(`${v.id}/index.m3u8`, opts.query));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * One track's media playlist. Segment K is `{K}.m4s`, lasts D and starts at K·D since the Unix
 * epoch, so EXT-X-MEDIA-SEQUENCE is simply the first K listed and EXT-X-PROGRAM-DATE-TIME is
 * K·D as a date: both pipelines and every region produce the same playlist from the same input.
 *
 * PROGRAM-DATE-TIME is written on the first segment and after every gap. In between it is
 * implied (every EXTINF is exactly D), which keeps a two-hour DVR playlist from growing by
 * 50 bytes per segment on every reload.
 */
export function writeMediaPlaylist(input: ManifestInput, trackId: string, opts: PlaylistOptions = {}): string {
  const D = input.config.segmentDurationMs;
  const last = input.lastSegmentByTrack[trackId];
  const gaps = new Set(input.gapsByTrack?.[trackId] ?? []);
  const ended = input.ended === true;
  // A live playlist lists at most the DVR window; an ended one lists all that is still kept.
  const windowSegments = Math.max(1, Math.floor((input.config.dvrWindowSeconds * 1000) / D));
  const first = last === undefined ? input.firstSegment : ended ? input.firstSegment : Math.max(input.firstSegment, last - windowSegments + 1);

  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${Math.ceil(D / 1000)}`,
    `#EXT-X-MEDIA-SEQUENCE:${first}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
    ...keyTags(input.tracks.find((t) => t.id === trackId)?.drm, 'EXT-X-KEY'),
    `#EXT-X-MAP:URI="${uri('init.mp4', opts.query)}"`,
  ];
  const extinf = `#EXTINF:${(D / 1000).toFixed(3)},`;
  let needDate = true;
  for (let k = first; last !== undefined && k <= last; k++) {
    if (needDate) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(k * D).toISOString()}`);
    // A gap keeps its place (and its EXTINF) so the timeline and the sequence numbers stay
    // continuous; players skip it instead of requesting a segment that will answer 410.
    if (gaps.has(k)) lines.push('#EXT-X-GAP');
    needDate = gaps.has(k);
    lines.push(extinf, uri(`${k}.m4s`, opts.query));
  }
  if (ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/** Quoted-string attribute values may not contain `"` or line breaks (RFC 8216 §4.2). */
function quoted(value: string): string {
  return value.replace(/["\r\n]/g, "'");
}

function uri(path: string, query: string | undefined): string {
  return quoted(query ? `${path}?${query}` : path);
}

function frameRate(rate: string): number {
  const [n, d = '1'] = rate.split('/');
  return Number(n) / Number(d);
}
