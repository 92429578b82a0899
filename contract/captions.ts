import { z } from 'zod';

/**
 * Captions (docs/captions.md): text tracks declared per event, cues from a live captioner
 * (POST /api/events/{event}/captions) or from the contribution chain (PUT …/{K}.vtt).
 */

/** BCP-47 language as the ingest contract accepts it (TrackMeta.language). */
export const CaptionLanguage = z
  .string()
  .regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/, 'language: a BCP-47 tag such as "en" or "pt-BR"');

/** One caption language of an event. Its track id is captionTrackId(language), e.g. "text-en". */
export const CaptionTrack = z
  .object({
    language: CaptionLanguage,
    /** Name in track menus (HLS NAME, DASH Label). */
    label: z.string().min(1).max(64),
    /** Shown without the viewer choosing it (HLS DEFAULT=YES; players that honour it turn it on). */
    default: z.boolean().default(false),
  })
  .strict();
export type CaptionTrack = z.infer<typeof CaptionTrack>;

export const CaptionTracks = z
  .array(CaptionTrack)
  .max(16)
  .refine((list) => new Set(list.map((c) => captionTrackId(c.language))).size === list.length, {
    message: 'each caption language may appear once',
  });

/** The track id of a caption language in URLs and manifests: "text-" + the lower-cased tag. */
export function captionTrackId(language: string): string {
  return `text-${language.toLowerCase()}`;
}

/** Longest cue text accepted from any source (a few subtitle lines, with room for CJK). */
export const MAX_CUE_TEXT = 500;
/** A cue longer than this is a mistake (a caption stays on screen a few seconds). */
export const MAX_CUE_MS = 60_000;
/** Cues may be posted at most this far ahead of now (a prepared caption for a scheduled moment). */
export const MAX_CUE_LEAD_MS = 3_600_000;

/** POST /api/events/{event}/captions: cues in UTC, which is the event's media time. */
export const CaptionsPost = z
  .object({
    language: CaptionLanguage,
    cues: z
      .array(
        z
          .object({
            start: z.iso.datetime({ offset: true }),
            end: z.iso.datetime({ offset: true }),
            text: z.string().trim().min(1).max(MAX_CUE_TEXT),
          })
          .strict()
          .refine((c) => Date.parse(c.end) > Date.parse(c.start), { message: 'end must be after start', path: ['end'] })
          .refine((c) => Date.parse(c.end) - Date.parse(c.start) <= MAX_CUE_MS, {
            message: `a cue lasts at most ${MAX_CUE_MS / 1000} s`,
            path: ['end'],
          }),
      )
      .min(1)
      .max(200),
  })
  .strict();
export type CaptionsPost = z.infer<typeof CaptionsPost>;
