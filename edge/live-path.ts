import type { ObjectType } from '../contract/ttl-rules.ts';

/** What a player path names: the object type (for TTL rules), the event, the track and K. */
export interface LiveObject {
  type: ObjectType;
  event: string;
  track?: string;
  k?: number;
}

/**
 * Classify a `/live/…` path (docs/api.md). Caption tracks (`text-<lang>`) answer as `text`
 * whether asked as WebVTT or as IMSC1 in fMP4. Undefined for anything else.
 */
export function classifyLivePath(path: string): LiveObject | undefined {
  const parts = path.split('/');
  if (parts[1] !== 'live' || !parts[2]) return undefined;
  const event = parts[2];
  if (parts.length === 4) {
    if (parts[3] === 'index.mpd') return { type: 'mpd', event };
    if (parts[3] === 'index.m3u8') return { type: 'multivariant-playlist', event };
    return undefined;
  }
  if (parts.length !== 5 || !parts[3]) return undefined;
  const track = parts[3];
  const file = parts[4];
  if (file === 'index.m3u8') return { type: 'media-playlist', event, track };
  if (file === 'init.mp4') return { type: 'init', event, track };
  // A part ({K}.{n}.m4s, docs/latency.md) answers as a segment of K.
  const segment = /^(\d{1,16})(?:\.\d{1,2})?\.(m4s|vtt)$/.exec(file);
  if (!segment) return undefined;
  const type = segment[2] === 'vtt' || track.startsWith('text-') ? 'text' : 'segment';
  return { type, event, track, k: Number(segment[1]) };
}
