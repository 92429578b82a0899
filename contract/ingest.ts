import { z } from 'zod';

/**
 * The ingest contract (encoder-bridge → packager route), in the spirit of DASH-IF Live Media
 * Ingest interface 1. See docs/api.md.
 *
 *   PUT /ingest/{event}/{pipeline}/{track}/init.mp4   CMAF header
 *   PUT /ingest/{event}/{pipeline}/{track}/{K}.m4s    CMAF segment K
 *   PUT /ingest/{event}/{pipeline}/{track}/{K}.vtt    caption cues of segment K (WebVTT, text/vtt)
 *   Authorization: Bearer <scoped ingest token of the event> (contract/scoped-token.ts)
 */
/** Largest accepted segment body: a 2 s UHD HEVC segment at 40 Mbit/s is about 10 MB. */
export const MAX_SEGMENT_BYTES = 32 * 1024 * 1024;
export const MAX_INIT_BYTES = 256 * 1024;

/**
 * Most samples one segment may declare, all its trun boxes together; more is MEDIA_MALFORMED.
 * 2 s of 120 fps video is 240 samples and 2 s of 48 kHz audio 94 AAC frames (63 E-AC-3); at the
 * longest D (10 s) that is 1,200 and 469. The cap matters for samples that take no bytes (a trun
 * with a huge count and no per-sample fields): each sample read costs about 1 µs and 200 bytes,
 * so a hostile segment stays under about 15 ms and 2 MB.
 */
export const MAX_SAMPLES_PER_SEGMENT = 10_000;

/** A caption segment's WebVTT body: 2 s of captions is a few hundred bytes. */
export const MAX_VTT_BYTES = 64 * 1024;
export const VTT_CONTENT_TYPE = 'text/vtt';

/** Media types accepted on ingest PUTs. */
export const INGEST_CONTENT_TYPES = ['video/mp4', 'audio/mp4', 'application/mp4', 'application/octet-stream'] as const;

/**
 * Sent with an init PUT: what the origin cannot read from the init segment itself.
 * Codecs, timescale and resolution are read from the init by the packager.
 */
export const TRACK_META_HEADER = 'x-track-meta';
/** Roles a track may declare (a subset of DASH's role scheme that players act on). */
export const TRACK_ROLES = ['main', 'alternate', 'supplementary', 'commentary', 'dub', 'description'] as const;
export const TrackMeta = z.object({
  /** Declared bandwidth in bit/s (the ladder rung's target). */
  bandwidth: z.number().int().positive().max(200_000_000),
  /** Frames per second as a rational string, e.g. "30" or "30000/1001"; video only. */
  frameRate: z
    .string()
    .regex(/^\d+(\/\d+)?$/)
    .optional(),
  /** BCP-47 language, audio and text. */
  language: z
    .string()
    .regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/)
    .optional(),
  /** Human-readable label for track menus. */
  label: z.string().max(64).optional(),
  /** DASH roles (urn:mpeg:dash:role:2011) of the track, e.g. ["main"] or ["description"]; HLS maps "description" to CHARACTERISTICS. */
  roles: z.array(z.enum(TRACK_ROLES)).min(1).max(4).optional(),
  /**
   * The track's place in the publisher's ladder (audio: the event's language order). Manifests list
   * tracks in this order, so the event's first language is the main/default one in every region,
   * whichever init happened to arrive first.
   */
  order: z.number().int().min(0).max(255).optional(),
});
export type TrackMeta = z.infer<typeof TrackMeta>;

/** Defects the publisher already knows about (e.g. "short", "no-sync-start"), comma separated. */
export const DEFECTS_HEADER = 'x-segment-defects';
