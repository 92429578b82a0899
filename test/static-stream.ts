/**
 * A static (VOD) stream made of given CMAF segments, served from loopback for player tests: a
 * DASH MPD (type static, SegmentTemplate with a SegmentTimeline of each segment's own tfdt and
 * duration, $Time$ URLs) and HLS fMP4 playlists (EXT-X-MAP, VOD, EXTINF from the real durations),
 * both naming the same segment URLs. What a URL returns is the server's map, not the manifests:
 * a test can serve other bytes under a URL than the manifests describe, as a broken origin would.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseWithMp4box } from './mp4box-inspect.ts';

export interface StaticSegment {
  /** baseMediaDecodeTime, in the track's timescale. */
  tfdt: number;
  /** Sum of the sample durations. */
  duration: number;
  sampleCount: number;
  body: Uint8Array;
}

export interface StaticTrack {
  id: string;
  kind: 'video' | 'audio';
  codecs: string;
  timescale: number;
  bandwidth: number;
  width?: number;
  height?: number;
  init: Uint8Array;
  segments: StaticSegment[];
}

/** A track from its init and its segments in playback order, timing read back with mp4box. */
export function staticTrack(
  t: Pick<StaticTrack, 'id' | 'kind' | 'bandwidth' | 'width' | 'height' | 'init'>,
  bodies: Uint8Array[],
): StaticTrack {
  const parsed = bodies.map((body) => ({ body, info: parseWithMp4box(t.init, body) }));
  return {
    ...t,
    codecs: parsed[0].info.codec,
    timescale: parsed[0].info.timescale,
    segments: parsed.map(({ body, info }) => ({
      tfdt: info.baseMediaDecodeTime,
      duration: info.duration,
      sampleCount: info.sampleCount,
      body,
    })),
  };
}

/** Where a segment is served: by its track and tfdt, so A's and B's copies of a K share one URL. */
export const segmentPath = (track: StaticTrack, s: StaticSegment) => `${track.id}/${s.tfdt}.m4s`;
const endOf = (track: StaticTrack) => {
  const last = track.segments[track.segments.length - 1];
  return last.tfdt + last.duration;
};

/**
 * The MPD: the Period starts at `originSeconds` on the tracks' media timeline (every
 * presentationTimeOffset is that instant in its track's timescale, to the nearest tick), so audio
 * and video keep the offsets between them that their tfdt have, and a player puts a sample at
 * tfdt/timescale − origin. (No sample should land exactly on 0, the MSE append window's start:
 * see test/ab-alternate-playback.test.ts.)
 */
export function staticMpd(tracks: StaticTrack[], originSeconds: number): string {
  const seconds = Math.max(...tracks.map((t) => endOf(t) / t.timescale - originSeconds));
  const set = (t: StaticTrack) => {
    const timeline = t.segments.map((s) => `<S t="${s.tfdt}" d="${s.duration}"/>`).join('');
    const size = t.kind === 'video' ? ` width="${t.width}" height="${t.height}"` : '';
    return [
      `<AdaptationSet contentType="${t.kind}" mimeType="${t.kind}/mp4" segmentAlignment="true" startWithSAP="1">`,
      `<Representation id="${t.id}" codecs="${t.codecs}" bandwidth="${t.bandwidth}"${size}>`,
      `<SegmentTemplate timescale="${t.timescale}" presentationTimeOffset="${Math.round(originSeconds * t.timescale)}" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/$Time$.m4s">`,
      `<SegmentTimeline>${timeline}</SegmentTimeline>`,
      '</SegmentTemplate>',
      '</Representation>',
      '</AdaptationSet>',
    ].join('\n');
  };
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    // Rounded up to the millisecond: a duration shorter than the media would cut its last frame.
    `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT${(Math.ceil(seconds * 1000) / 1000).toFixed(3)}S" minBufferTime="PT2S">`,
    '<Period id="0" start="PT0S">',
    ...tracks.map(set),
    '</Period>',
    '</MPD>',
    '',
  ].join('\n');
}

/** One track's VOD media playlist. */
export function staticMediaPlaylist(t: StaticTrack): string {
  const extinf = t.segments.map((s) => s.duration / t.timescale);
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    // Every EXTINF rounded to the nearest integer is at most the target duration (RFC 8216 4.3.3.1).
    `#EXT-X-TARGETDURATION:${Math.max(...extinf.map(Math.round))}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-INDEPENDENT-SEGMENTS',
    `#EXT-X-MAP:URI="${t.id}/init.mp4"`,
    ...t.segments.flatMap((s, i) => [`#EXTINF:${extinf[i].toFixed(6)},`, segmentPath(t, s)]),
    '#EXT-X-ENDLIST',
    '',
  ].join('\n');
}

/** The multivariant playlist: one video variant with one audio rendition. */
export function staticMultivariant(video: StaticTrack, audio: StaticTrack): string {
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    '#EXT-X-INDEPENDENT-SEGMENTS',
    `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="${audio.id}",DEFAULT=YES,AUTOSELECT=YES,URI="${audio.id}.m3u8"`,
    `#EXT-X-STREAM-INF:BANDWIDTH=${video.bandwidth + audio.bandwidth},CODECS="${video.codecs},${audio.codecs}",RESOLUTION=${video.width}x${video.height},AUDIO="audio"`,
    `${video.id}.m3u8`,
    '',
  ].join('\n');
}

/** Every file of the stream by path: manifests, a blank page for the players, inits, segments. */
export function staticFiles(video: StaticTrack, audio: StaticTrack, originSeconds: number): Map<string, Uint8Array> {
  const text = (s: string) => new TextEncoder().encode(s);
  const files = new Map<string, Uint8Array>([
    ['index.html', text('<!doctype html><meta charset="utf-8"><video muted playsinline></video>')],
    ['index.mpd', text(staticMpd([video, audio], originSeconds))],
    ['index.m3u8', text(staticMultivariant(video, audio))],
  ]);
  for (const t of [video, audio]) {
    files.set(`${t.id}.m3u8`, text(staticMediaPlaylist(t)));
    files.set(`${t.id}/init.mp4`, t.init);
    for (const s of t.segments) files.set(segmentPath(t, s), s.body);
  }
  return files;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  mpd: 'application/dash+xml',
  m3u8: 'application/vnd.apple.mpegurl',
  mp4: 'video/mp4',
  m4s: 'video/iso.segment',
};

/** Serves `files` (read at each request, so a test may change them) on 127.0.0.1, a random port. */
export async function serveFiles(
  files: Map<string, Uint8Array>,
): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://static').pathname.slice(1) || 'index.html';
    requests.push(path);
    const body = files.get(path);
    if (req.method !== 'GET' || !body) return void res.writeHead(404).end();
    res.writeHead(200, {
      'content-type': TYPES[path.slice(path.lastIndexOf('.') + 1)] ?? 'application/octet-stream',
      'content-length': body.byteLength,
    });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
