import { z } from 'zod';

/**
 * Device profiles (docs/manifests.md, "Device profiles"): a named set of what a kind of device
 * plays. A personalised manifest lists only the tracks the device can play, signals DRM only for
 * its system and orders languages by its preference. Built-in profiles below; operators add or
 * override profiles at run time (Workers KV, `PUT /api/devices/{name}`), validated with this
 * schema.
 */

/** A profile name as `?device=` and the API write it. */
export const DeviceName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'a device name: 1-40 chars of a-z, 0-9 and "-", starting with a letter or digit');

/** The highest profile and level a device decodes, per video codec (profiles in increasing order of capability). */
const Level = z.number().min(1).max(9.9);
const VideoSupport = z
  .object({
    avc: z
      .object({ profile: z.enum(['baseline', 'main', 'high', 'high10', 'high422', 'high444']), level: Level })
      .strict(),
    hevc: z.object({ profile: z.enum(['main', 'main10', 'rext']), level: Level }).strict(),
    av1: z.object({ profile: z.enum(['main', 'high', 'professional']), level: Level }).strict(),
  })
  .partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'at least one video codec (avc, hevc, av1)');

const MaxChannels = z.object({ maxChannels: z.number().int().min(1).max(32) }).strict();

export const DeviceProfile = z
  .object({
    /** What the profile is for, shown by the API. */
    description: z.string().max(200).optional(),
    video: VideoSupport,
    /** Audio codecs the device decodes, each with the most channels it takes. */
    audio: z
      .object({ aac: MaxChannels, 'ec-3': MaxChannels })
      .partial()
      .strict()
      .refine((a) => Object.keys(a).length > 0, 'at least one audio codec (aac, ec-3)'),
    /**
     * The one DRM system the device uses and the schemes it decrypts. `none`: clear content only.
     * An encrypted track without that system's signalling (FairPlay is never signalled by this
     * packager) is not playable on the device and is left out.
     */
    drm: z
      .object({
        system: z.enum(['widevine', 'playready', 'fairplay', 'clearkey', 'none']),
        schemes: z
          .array(z.enum(['cenc', 'cbcs']))
          .min(1)
          .default(['cenc', 'cbcs']),
      })
      .strict(),
    /** Video renditions above these are left out. */
    maxHeight: z.number().int().min(1).max(8640),
    maxFrameRate: z.number().min(1).max(300),
    /** Peak bit/s of a video rendition (its BANDWIDTH). */
    maxBitrate: z.number().int().min(1).max(1_000_000_000),
    /** HDR renditions (HDR10, HLG, Dolby Vision) allowed. */
    hdr: z.boolean(),
    /** Caption formats: WebVTT (HLS) and IMSC1 in fMP4 (DASH). A manifest lists captions only in a format the device reads. */
    captions: z.array(z.enum(['webvtt', 'imsc1'])).max(2),
    /** Languages in order of preference (BCP 47); audio and caption tracks in them come first. */
    languages: z.array(z.string().regex(/^[a-zA-Z]{2,8}(-[a-zA-Z0-9]{1,8})*$/, 'a BCP 47 language tag')).max(20),
  })
  .strict();
export type DeviceProfile = z.infer<typeof DeviceProfile>;

/**
 * Built-in profiles: present without any configuration, overridden by a stored profile of the
 * same name, restored by deleting that one.
 */
export const BUILT_IN_PROFILES: Record<'browser' | 'tv-hevc' | 'legacy-avc', DeviceProfile> = {
  browser: {
    description: 'Chromium with MSE and EME: AVC and AAC, ClearKey, WebVTT and IMSC1 (no HEVC, no E-AC-3)',
    video: { avc: { profile: 'high', level: 5.2 } },
    audio: { aac: { maxChannels: 8 } },
    drm: { system: 'clearkey', schemes: ['cenc', 'cbcs'] },
    maxHeight: 2160,
    maxFrameRate: 60,
    maxBitrate: 60_000_000,
    hdr: false,
    captions: ['webvtt', 'imsc1'],
    languages: [],
  },
  'tv-hevc': {
    description:
      'A 4K television: AVC and HEVC Main10 up to 5.1, AAC and E-AC-3 5.1/7.1, PlayReady, HDR, IMSC1 and WebVTT',
    video: { avc: { profile: 'high', level: 5.1 }, hevc: { profile: 'main10', level: 5.1 } },
    audio: { aac: { maxChannels: 6 }, 'ec-3': { maxChannels: 8 } },
    drm: { system: 'playready', schemes: ['cenc', 'cbcs'] },
    maxHeight: 2160,
    maxFrameRate: 60,
    maxBitrate: 40_000_000,
    hdr: true,
    captions: ['imsc1', 'webvtt'],
    languages: [],
  },
  'legacy-avc': {
    description:
      'An old set-top box or phone, and the safe default for a device name nobody configured: AVC Main 4.0 (1080p30), stereo AAC, Widevine cenc, SDR',
    video: { avc: { profile: 'main', level: 4 } },
    audio: { aac: { maxChannels: 2 } },
    drm: { system: 'widevine', schemes: ['cenc'] },
    maxHeight: 1080,
    maxFrameRate: 30,
    maxBitrate: 8_000_000,
    hdr: false,
    captions: ['webvtt', 'imsc1'],
    languages: [],
  },
};

/** What `?device=` with a name that is neither stored nor built in gets: documented in docs/manifests.md. */
export const SAFE_DEFAULT_PROFILE = 'legacy-avc';

/** The stored profiles (one KV value): name → profile. */
export const StoredProfiles = z.record(DeviceName, DeviceProfile);
export type StoredProfiles = z.infer<typeof StoredProfiles>;

/** At most this many stored profiles (they live in one KV value). */
export const MAX_STORED_PROFILES = 200;
