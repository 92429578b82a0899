import type { ManifestInput } from '../../contract/track.ts';
import { type PlaylistOptions, writeMediaPlaylist } from './hls.ts';

/** One part as the origin lists it (origin/parts.ts PartEntry). */
export interface ListedPart {
  k: number;
  n: number;
  durationS: number;
  independent: boolean;
}

/** What a low-latency media playlist adds to the manifest input (origin/live-parts.ts PartsView). */
export interface LowLatencyInput {
  /** Parts per segment. */
  parts: number;
  partDurationMs: number;
  /** Per track: its parts, oldest first, with no part missing inside a segment. */
  byTrack: Record<string, ListedPart[]>;
}

/** RFC 8216bis §4.4.3.7: PART-HOLD-BACK is at least three Part Target Durations. */
export const PART_HOLD_BACK_PARTS = 3;

/** Segments whose parts are listed (the in-progress one and the two before): three target durations at D = 2 s. */
const SEGMENTS_WITH_PARTS = 3;

/**
 * The LL-HLS media playlist of a track (RFC 8216bis; docs/latency.md): the standard playlist
 * (packager/manifest/hls.ts: segments, gaps, keys, delta updates) with, on top, version 9,
 * EXT-X-SERVER-CONTROL CAN-BLOCK-RELOAD and PART-HOLD-BACK, EXT-X-PART-INF, the parts of the
 * newest segments (EXT-X-PART before the segment they make up, the in-progress segment's after
 * the last EXTINF), an EXT-X-PRELOAD-HINT for the next part and an EXT-X-RENDITION-REPORT per
 * other audio and video track.
 *
 * PART-TARGET is the nominal part duration or the longest part listed, whichever is longer: at
 * 29.97 fps a 0.5 s part holds 15 or 16 frames (up to 0.534 s), and no part may exceed it.
 */
export function writeLowLatencyMediaPlaylist(
  input: ManifestInput,
  trackId: string,
  ll: LowLatencyInput,
  opts: PlaylistOptions & {
    /** Query of the other renditions' playlist URIs (`latency=low`): as the multivariant playlist wrote them. */
    reportQuery?: string;
  } = {},
): string {
  const base = writeMediaPlaylist(input, trackId, opts);
  if (input.ended) return base;
  const lines = base.trimEnd().split('\n');
  const own = ll.byTrack[trackId] ?? [];
  const partTarget = Math.max(ll.partDurationMs / 1000, ...own.map((p) => p.durationS));
  const partTargetS = Math.ceil(partTarget * 1000) / 1000;
  const uri = (path: string) => (opts.query ? `${path}?${opts.query}` : path);
  const segmentLine = (k: number) => uri(`${k}.m4s`);
  const newestK = own[own.length - 1]?.k;
  const listedParts = own.filter((p) => newestK !== undefined && p.k > newestK - SEGMENTS_WITH_PARTS);
  const partLines = (k: number) =>
    listedParts
      .filter((p) => p.k === k)
      .map(
        (p) =>
          `#EXT-X-PART:DURATION=${p.durationS.toFixed(5)},URI="${uri(`${p.k}.${p.n}.m4s`)}"${p.independent ? ',INDEPENDENT=YES' : ''}`,
      );

  const out: string[] = [];
  let lastListed: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('#EXT-X-VERSION:')) {
      out.push('#EXT-X-VERSION:9');
    } else if (line.startsWith('#EXT-X-SERVER-CONTROL:')) {
      const rest = line.slice('#EXT-X-SERVER-CONTROL:'.length);
      const holdBack = (PART_HOLD_BACK_PARTS * partTargetS).toFixed(3);
      out.push(`#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,${rest},PART-HOLD-BACK=${holdBack}`);
    } else if (line.startsWith('#EXT-X-TARGETDURATION:')) {
      out.push(line, `#EXT-X-PART-INF:PART-TARGET=${partTargetS.toFixed(3)}`);
    } else if (line.startsWith('#EXTINF:') && lines[i + 1] !== undefined) {
      // A segment of this event ({K}.m4s): its parts go right before it.
      const k = /^(\d+)\.m4s(\?|$)/.exec(lines[i + 1])?.[1];
      if (k !== undefined) {
        out.push(...partLines(Number(k)));
        lastListed = Number(k);
      }
      out.push(line);
    } else {
      out.push(line);
    }
  }
  if (lastListed === undefined) return `${out.join('\n')}\n`;

  // Segments after the last one listed: complete ones (all parts there) get their EXTINF too (the
  // origin holds {K}.m4s for the moment it is stored), the newest one only its parts so far.
  const extinf = `#EXTINF:${(input.config.segmentDurationMs / 1000).toFixed(3)},`;
  let next = { k: lastListed + 1, n: 0 };
  for (let k = lastListed + 1; ; k++) {
    const mine = listedParts.filter((p) => p.k === k);
    if (mine.length === 0) break;
    out.push(...partLines(k));
    if (mine.length < ll.parts) {
      next = { k, n: mine.length };
      break;
    }
    out.push(extinf, segmentLine(k));
    next = { k: k + 1, n: 0 };
  }
  out.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${uri(`${next.k}.${next.n}.m4s`)}"`);

  // Where every other audio and video rendition is, so a player switching asks for the right part.
  for (const t of input.tracks) {
    if (t.id === trackId || t.kind === 'text') continue;
    const parts = ll.byTrack[t.id] ?? [];
    const last = parts[parts.length - 1];
    const lastSegment = input.lastSegmentByTrack[t.id];
    const report = last
      ? `LAST-MSN=${last.k},LAST-PART=${last.n}`
      : lastSegment !== undefined
        ? `LAST-MSN=${lastSegment}`
        : undefined;
    const playlist = `../${t.id}/index.m3u8${opts.reportQuery ? `?${opts.reportQuery}` : ''}`;
    if (report) out.push(`#EXT-X-RENDITION-REPORT:URI="${playlist}",${report}`);
  }
  return `${out.join('\n')}\n`;
}
