import type { EventConfig } from './event-config.ts';
import type { TRACK_ROLES } from './ingest.ts';
import type { Splice } from './splices.ts';

export type TrackRole = (typeof TRACK_ROLES)[number];

/**
 * Everything a manifest needs about one track, gathered at ingest from the init segment (read by
 * the packager) and the publisher's X-Track-Meta header. The origin builds every manifest from
 * these records alone, never from media.
 */
export interface TrackDescriptor {
  /** URL-safe track id, e.g. "v540" or "aen". */
  id: string;
  kind: 'video' | 'audio' | 'text';
  /** RFC 6381 codecs string read from the bitstream. */
  codecs: string;
  timescale: number;
  /**
   * Peak bit/s a player needs for this track: measured from the stored segments (largest clean
   * segment of the recent ones over D) once there are some; until then the publisher's declared
   * rung bitrate.
   */
  bandwidth: number;
  /** Mean bit/s over the recent stored segments (HLS AVERAGE-BANDWIDTH); absent before the first segment. */
  averageBandwidth?: number;
  width?: number;
  height?: number;
  /** Rational string: "30", "30000/1001". */
  frameRate?: string;
  sampleRate?: number;
  channels?: number;
  language?: string;
  label?: string;
  /** DASH roles declared by the publisher (TrackMeta.roles). */
  roles?: TrackRole[];
  /** Place in the publisher's ladder (TrackMeta.order): manifests list tracks in this order. */
  order?: number;
  /** Text tracks: selected without the viewer choosing (HLS DEFAULT=YES). */
  default?: boolean;
  /** Present when the track is encrypted (docs/drm.md): what manifests signal. */
  drm?: TrackDrm;
}

/** DRM signalling of one track, from its protected init. */
export interface TrackDrm {
  scheme: 'cenc' | 'cbcs';
  /** tenc default_KID in UUID form (8-4-4-4-12), as DASH cenc:default_KID writes it. */
  defaultKid: string;
  /** Each DRM system's pssh box (whole box, base64), as written in the init. */
  pssh: { widevine?: string; playready?: string; clearkey?: string };
  /** ClearKey license URL; the edge fills it in per request (it depends on the host). */
  laUrl?: string;
}

/** What the manifest writers need about the event at one instant. */
export interface ManifestInput {
  eventId: string;
  config: EventConfig;
  tracks: TrackDescriptor[];
  /** Wall-clock time the manifest is generated for (ms since epoch). */
  nowMs: number;
  /** Earliest segment number still inside the DVR window that exists for this event. */
  firstSegment: number;
  /** Newest published segment number per track id (absent: nothing published yet). */
  lastSegmentByTrack: Record<string, number>;
  /** Segment numbers inside [firstSegment, last] that were never produced, per track (HLS EXT-X-GAP). */
  gapsByTrack?: Record<string, number[]>;
  /** When the event ended: DASH becomes static, HLS gets ENDLIST. */
  ended?: boolean;
  /**
   * A back-to-back event scheduled to follow this one: from segment `atK` on, viewers of this
   * event's manifests get the next event's media (DASH: a new Period; HLS: a discontinuity).
   * `input` is the next event's own manifest input, when it exists yet.
   */
  next?: NextEvent;
  /** Ad breaks overlapping the manifest's span, earliest first (contract/splices.ts). */
  splices?: Splice[];
}

/**
 * A media playlist's background refresh at the edge asks the origin to answer once `track`'s
 * segment `k` is stored, or at `untilMs` (its due time), whichever comes first.
 */
export interface ManifestHold {
  track: string;
  k: number;
  untilMs: number;
}

export interface NextEvent {
  eventId: string;
  /** First segment number of the next event in this event's manifests (this event's last is atK − 1). */
  atK: number;
  input?: ManifestInput;
}
