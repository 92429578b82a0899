import { resolveLatency } from '../../contract/latency.ts';
import { manifestSplices, nextEventSplices, type Splice } from '../../contract/splices.ts';
import type { ManifestInput, TrackDescriptor } from '../../contract/track.ts';
import { codecGroupKey } from './codecs.ts';
import { keyTags } from './hls-drm.ts';
import { dateRangeTags } from './splice-markers.ts';

export interface PlaylistOptions {
  /** Query string (without `?`) appended to every URI, e.g. `token=…`. */
  query?: string;
  /**
   * The client asked for a Playlist Delta Update (`_HLS_skip=YES`, or `v2`: this writer keeps
   * every EXT-X-DATERANGE, so both mean the same). Media playlists only.
   */
  skip?: boolean;
}

/**
 * The Skip Boundary advertised in EXT-X-SERVER-CONTROL CAN-SKIP-UNTIL, in target durations: the
 * smallest RFC 8216bis allows (§4.4.3.8: at least six), so a delta update is as short as allowed.
 */
export const SKIP_BOUNDARY_TARGET_DURATIONS = 6;

const SUBTITLES_GROUP = 'subs';

/**
 * The HLS multivariant playlist. Audio tracks are EXT-X-MEDIA renditions in one group per codec
 * family (`aud-aac`, `aud-ec3`, …): a variant names one group, and its CODECS only its video
 * codec and that group's audio codecs, so a player that cannot decode E-AC-3 (or HEVC) drops those
 * variants and still finds one it can play. One EXT-X-STREAM-INF per (video track, audio group):
 * groups in order of their first track, within a group highest bandwidth first. Without video,
 * one audio-only variant per group. URIs are relative to the playlist (`{track}/index.m3u8`) so
 * the same text works behind any host or path prefix.
 */
export function writeMultivariantPlaylist(input: ManifestInput, opts: PlaylistOptions = {}): string {
  const audio = input.tracks.filter((t) => t.kind === 'audio');
  const video = input.tracks.filter((t) => t.kind === 'video').sort((a, b) => b.bandwidth - a.bandwidth);
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  // One session key per distinct key (audio and video may have their own), so players can start the license request early.
  lines.push(...new Set(input.tracks.flatMap((t) => keyTags(t.drm, 'EXT-X-SESSION-KEY'))));

  const groups = audioGroups(audio);
  for (const group of groups) {
    group.tracks.forEach((t, i) => {
      lines.push(
        mediaTag(t, 'AUDIO', group.id, i === 0, opts, [
          `CHANNELS="${t.channels ?? 2}"`,
          // HLS names audio description by its Apple characteristic; other DASH roles have no HLS twin.
          t.roles?.includes('description') ? 'CHARACTERISTICS="public.accessibility.describes-video"' : undefined,
        ]),
      );
    });
  }
  // Caption languages: WebVTT media playlists ({K}.vtt) in one SUBTITLES group (docs/captions.md).
  const text = input.tracks.filter((t) => t.kind === 'text');
  for (const t of text) lines.push(mediaTag(t, 'SUBTITLES', SUBTITLES_GROUP, t.default === true, opts, []));

  const subtitles = text.length > 0 ? `SUBTITLES="${SUBTITLES_GROUP}"` : undefined;
  for (const group of groups.length > 0 ? groups : [undefined]) {
    // BANDWIDTH is the peak a client needs for the whole variant: video plus the group's heaviest
    // audio; AVERAGE-BANDWIDTH likewise from the measured means, once every track has one.
    const tracks = group?.tracks ?? [];
    const audioPeak = Math.max(0, ...tracks.map((t) => t.bandwidth));
    const audioAverage = Math.max(0, ...tracks.map((t) => t.averageBandwidth ?? 0));
    const averagesKnown = tracks.every((t) => t.averageBandwidth !== undefined);
    const audioCodecs = [...new Set(tracks.map((t) => t.codecs))];
    const audioGroup = group ? `AUDIO="${group.id}"` : undefined;
    for (const v of video) {
      const attrs = [
        `BANDWIDTH=${v.bandwidth + audioPeak}`,
        averagesKnown && v.averageBandwidth !== undefined
          ? `AVERAGE-BANDWIDTH=${v.averageBandwidth + audioAverage}`
          : undefined,
        `CODECS="${quoted([v.codecs, ...audioCodecs].join(','))}"`,
        v.width !== undefined && v.height !== undefined ? `RESOLUTION=${v.width}x${v.height}` : undefined,
        v.frameRate !== undefined ? `FRAME-RATE=${frameRate(v.frameRate).toFixed(3)}` : undefined,
        audioGroup,
        subtitles,
      ];
      lines.push(`#EXT-X-STREAM-INF:${attrs.filter(Boolean).join(',')}`, uri(`${v.id}/index.m3u8`, opts.query));
    }
    if (video.length === 0 && group) {
      // Audio only (no video yet, or a filter left none): the group's default rendition is the variant.
      const attrs = [
        `BANDWIDTH=${audioPeak}`,
        averagesKnown ? `AVERAGE-BANDWIDTH=${audioAverage}` : undefined,
        `CODECS="${quoted(audioCodecs.join(','))}"`,
        audioGroup,
        subtitles,
      ];
      lines.push(
        `#EXT-X-STREAM-INF:${attrs.filter(Boolean).join(',')}`,
        uri(`${group.tracks[0].id}/index.m3u8`, opts.query),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Audio tracks in one rendition group per codec family, groups and tracks in order of first appearance. */
function audioGroups(audio: TrackDescriptor[]): { id: string; tracks: TrackDescriptor[] }[] {
  const groups = new Map<string, TrackDescriptor[]>();
  for (const t of audio) {
    const id = `aud-${codecGroupKey(t.codecs).replace(/[^a-z0-9]/g, '')}`;
    groups.set(id, [...(groups.get(id) ?? []), t]);
  }
  return [...groups].map(([id, tracks]) => ({ id, tracks }));
}

/** One EXT-X-MEDIA rendition: language, name, default flag, type-specific attributes, then its playlist URI. */
function mediaTag(
  t: TrackDescriptor,
  type: 'AUDIO' | 'SUBTITLES',
  group: string,
  isDefault: boolean,
  opts: PlaylistOptions,
  extra: (string | undefined)[],
): string {
  const attrs = [
    `TYPE=${type}`,
    `GROUP-ID="${group}"`,
    t.language !== undefined ? `LANGUAGE="${quoted(t.language)}"` : undefined,
    `NAME="${quoted(t.label ?? t.language ?? t.id)}"`,
    `DEFAULT=${isDefault ? 'YES' : 'NO'}`,
    'AUTOSELECT=YES',
    ...extra,
    `URI="${uri(`${t.id}/index.m3u8`, opts.query)}"`,
  ];
  return `#EXT-X-MEDIA:${attrs.filter(Boolean).join(',')}`;
}

/**
 * One track's media playlist. Segment K is `{K}.m4s`, lasts D and starts at K·D since the Unix
 * epoch, so EXT-X-MEDIA-SEQUENCE is simply the first K listed and EXT-X-PROGRAM-DATE-TIME is
 * K·D as a date: both pipelines and every region produce the same playlist from the same input.
 *
 * PROGRAM-DATE-TIME is written on the first segment and after every gap. In between it is
 * implied (every EXTINF is exactly D), which keeps a two-hour DVR playlist from growing by
 * 50 bytes per segment on every reload.
 *
 * Live playlists advertise Playlist Delta Updates (RFC 8216bis §6.2.5.1: EXT-X-SERVER-CONTROL
 * CAN-SKIP-UNTIL). With `opts.skip`, the segments that end at least the Skip Boundary before the
 * end of the playlist are replaced by one `EXT-X-SKIP:SKIPPED-SEGMENTS=N` (EXT-X-VERSION 9), so
 * a player reloading a two-hour window gets a few lines instead of 3,600 segments. Skipping stops
 * at the first discontinuity (a back-to-back event's part is never skipped into), so the
 * discontinuity sequence of what remains is unchanged; the EXT-X-KEY and EXT-X-MAP that apply to
 * the remaining segments stay before the EXT-X-SKIP, and the first remaining segment is dated.
 */
export function writeMediaPlaylist(input: ManifestInput, trackId: string, opts: PlaylistOptions = {}): string {
  const D = input.config.segmentDurationMs;
  const ended = input.ended === true;
  const track = input.tracks.find((t) => t.id === trackId);
  const isText = track?.kind === 'text';
  // Each listed segment, in order: this event's, then (back-to-back) the next event's.
  const parts: Part[] = [
    {
      prefix: '',
      drm: track?.drm,
      ks: listed(input.lastSegmentByTrack[trackId], input.firstSegment, input.gapsByTrack?.[trackId]),
      splices: manifestSplices(input.splices ?? [], input),
      scope: '',
    },
  ];
  const after = nextPart(input, track, parts[0].ks);
  if (after) parts.push(after);
  // A live playlist lists at most the DVR window; an ended one lists all that is still kept.
  const windowSegments = Math.max(1, Math.floor((input.config.dvrWindowSeconds * 1000) / D));
  let drop = ended ? 0 : Math.max(0, parts.reduce((n, p) => n + p.ks.length, 0) - windowSegments);
  let discontinuitySequence = 0;
  while (drop > 0 && parts.length > 1 && parts[0].ks.length <= drop) {
    drop -= parts[0].ks.length;
    parts.shift();
    discontinuitySequence++;
  }
  parts[0].ks = parts[0].ks.slice(drop);
  const first = parts[0].ks[0]?.k ?? input.firstSegment;

  const targetDuration = Math.ceil(D / 1000);
  const canSkipUntil = SKIP_BOUNDARY_TARGET_DURATIONS * targetDuration;
  // Every listed segment lasts D: segment i (of n) ends (n − 1 − i)·D before the playlist's end.
  const listedCount = parts.reduce((n, p) => n + p.ks.length, 0);
  const skipped =
    opts.skip && !ended
      ? Math.min(parts[0].ks.length, Math.max(0, listedCount - Math.ceil((canSkipUntil * 1000) / D)))
      : 0;
  const lines = [
    '#EXTM3U',
    // EXT-X-SKIP needs version 9 (RFC 8216bis §8).
    `#EXT-X-VERSION:${skipped > 0 ? 9 : 7}`,
    `#EXT-X-TARGETDURATION:${targetDuration}`,
  ];
  if (!ended)
    lines.push(
      `#EXT-X-SERVER-CONTROL:CAN-SKIP-UNTIL=${canSkipUntil.toFixed(1)},HOLD-BACK=${holdBackSeconds(input).toFixed(1)}`,
    );
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${first}`);
  if (discontinuitySequence > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${discontinuitySequence}`);
  lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  const extinf = `#EXTINF:${(D / 1000).toFixed(3)},`;
  const mediaEndMs = (lastListed(parts) + 1) * D;
  // Ad breaks waiting for the first dated segment they can go before (below).
  let ranges: string[] = [];
  parts.forEach((part, i) => {
    // The next event is another encode: players must reset their decoder (RFC 8216 §4.3.2.3).
    if (i > 0) lines.push('#EXT-X-DISCONTINUITY');
    if (i > 0 && part.drm === undefined && parts[i - 1].drm !== undefined) lines.push('#EXT-X-KEY:METHOD=NONE');
    lines.push(...keyTags(part.drm, 'EXT-X-KEY'));
    // WebVTT segments stand alone: no initialization section.
    if (!isText) lines.push(`#EXT-X-MAP:URI="${uri(`${part.prefix}init.mp4`, opts.query)}"`);
    if (i === 0 && skipped > 0) lines.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}`);
    let needDate = true;
    const segments = i === 0 ? part.ks.slice(skipped) : part.ks;
    // Each event's ad breaks (SCTE-35 as EXT-X-DATERANGE) before its first dated segment, never
    // skipped (a delta update may skip every segment of this event's part: then before the next
    // one's); a next event's after its discontinuity, with IDs of its own.
    ranges.push(...dateRangeTags(part.splices, mediaEndMs, part.scope));
    if (segments.length > 0) {
      lines.push(...ranges);
      ranges = [];
    }
    for (const { k, gap } of segments) {
      if (needDate) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(k * D).toISOString()}`);
      // A gap keeps its place (and its EXTINF) so the timeline and the sequence numbers stay
      // continuous; players skip it instead of requesting a segment that will answer 410.
      if (gap) lines.push('#EXT-X-GAP');
      needDate = gap;
      lines.push(extinf, uri(`${part.prefix}${k}.${isText ? 'vtt' : 'm4s'}`, opts.query));
    }
  });
  if (ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/**
 * EXT-X-SERVER-CONTROL HOLD-BACK: how far from the end of the playlist a player should start. The
 * playlist ends with the newest published segment, so when segment K is due, (K+1)·D + pipelineDelayMs,
 * the end of the playlist is pipelineDelayMs behind real time: the latency target counts from real
 * time, HOLD-BACK from there. RFC 8216bis §4.4.3.8: HOLD-BACK MUST be at least three times the
 * target duration, so with 2 s segments it is never below 6 s however low the target
 * (docs/manifests.md says what that costs in hls.js).
 */
export function holdBackSeconds(input: ManifestInput): number {
  const targetDuration = Math.ceil(input.config.segmentDurationMs / 1000);
  const fromTarget = (resolveLatency(input.config).targetMs - input.config.pipelineDelayMs) / 1000;
  return Math.max(HOLD_BACK_TARGET_DURATIONS * targetDuration, Math.ceil(fromTarget * 10) / 10);
}

/** RFC 8216bis §4.4.3.8: HOLD-BACK is at least three target durations. */
export const HOLD_BACK_TARGET_DURATIONS = 3;

interface Part {
  /** URI prefix: '' for this event, `../../{next}/{track}/` for the next one. */
  prefix: string;
  drm: TrackDescriptor['drm'];
  ks: { k: number; gap: boolean }[];
  /** The event's ad breaks this playlist announces, and the DATERANGE ID scope ('' for this event's). */
  splices: Splice[];
  scope: string;
}

/** The newest K the playlist lists (of this event or the next). */
function lastListed(parts: Part[]): number {
  return Math.max(...parts.map((p) => p.ks[p.ks.length - 1]?.k ?? Number.NEGATIVE_INFINITY));
}

function listed(last: number | undefined, from: number, gapList: number[] | undefined): Part['ks'] {
  const gaps = new Set(gapList ?? []);
  const ks: Part['ks'] = [];
  for (let k = from; last !== undefined && k <= last; k++) ks.push({ k, gap: gaps.has(k) });
  return ks;
}

/**
 * The next event's part of this track's playlist (back-to-back events), once this event's own
 * segments reach atK − 1 so the timeline has no hole: the next event's track with the same id,
 * else the one of the same kind closest in bandwidth. URIs are relative to this playlist
 * (`/live/{event}/{track}/`), so `../../{next}/{track}/`.
 */
function nextPart(input: ManifestInput, track: TrackDescriptor | undefined, own: Part['ks']): Part | undefined {
  const next = input.next;
  if (!next?.input || !track || input.ended || next.input.config.segmentDurationMs !== input.config.segmentDurationMs)
    return undefined;
  const candidates = next.input.tracks.filter((t) => t.kind === track.kind);
  // A caption track continues only into the same language: another one would be the wrong words.
  const closest =
    track.kind === 'text'
      ? undefined
      : candidates.sort((a, b) => Math.abs(a.bandwidth - track.bandwidth) - Math.abs(b.bandwidth - track.bandwidth))[0];
  const target = candidates.find((t) => t.id === track.id) ?? closest;
  const last = target && next.input.lastSegmentByTrack[target.id];
  const ownLast = own[own.length - 1]?.k;
  if (!target || last === undefined || last < next.atK || (ownLast !== undefined && ownLast < next.atK - 1))
    return undefined;
  return {
    prefix: `../../${next.eventId}/${target.id}/`,
    drm: target.drm,
    ks: listed(last, Math.max(next.atK, next.input.firstSegment), next.input.gapsByTrack?.[target.id]),
    splices: nextEventSplices(input),
    scope: next.eventId,
  };
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
