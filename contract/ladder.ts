import { z } from 'zod';
import { TRACK_ROLES } from './ingest.ts';

/**
 * Adaptive ladders: what the encoder bridge makes from one contribution feed. Every field has a
 * documented default (docs/configuration.md). Two pipelines given the same ladder and the same
 * feed produce interchangeable segments, so a ladder is part of the redundancy contract.
 */

const TrackId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/);

/** Encoder speed presets shared by x264 and x265 (the ones a live encoder can afford). */
const Preset = z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium']);

/**
 * One video rung. Every rung is encoded at the feed's frame rate (25, 29.97, 30, 50, 59.94…):
 * segment boundaries and keyframes are placed from the feed's frame grid, so all rungs share it.
 */
export const VideoRung = z
  .object({
    id: TrackId,
    /** avc: libx264 (avc1). hevc: libx265, written as hvc1 (parameter sets in the init only). */
    codec: z.enum(['avc', 'hevc']).default('avc'),
    width: z.number().int().min(64).max(7680),
    height: z.number().int().min(64).max(4320),
    bitrateKbps: z.number().int().min(50).max(100_000),
    /** x264/x265 preset: the local ladder must keep real time on 2 cores. */
    preset: Preset.default('veryfast'),
    /** avc: baseline, main or high. hevc: main (8-bit 4:2:0, what every HEVC device decodes). */
    profile: z.enum(['baseline', 'main', 'high']).default('main'),
  })
  .refine((r) => r.codec === 'avc' || r.profile === 'main', {
    message: 'an hevc rung supports profile "main" only',
    path: ['profile'],
  })
  .refine((r) => r.width % 2 === 0 && r.height % 2 === 0, {
    message: 'width and height must be even (4:2:0 chroma)',
    path: ['width'],
  });
export type VideoRung = z.infer<typeof VideoRung>;

/**
 * One audio rendition. `language` picks the source audio stream (see docs/configuration.md,
 * "Audio renditions and source streams"); `channels` above the source's are never up-mixed.
 */
export const AudioRendition = z
  .object({
    id: TrackId,
    /**
     * aac-lc: ffmpeg's native aac (mp4a.40.2). eac3: E-AC-3 (ec-3), for 5.1.
     * he-aac / he-aac-v2 are accepted by the schema so a ladder can ask for them, and refused at
     * bridge start unless the ffmpeg build can really encode them (it needs libfdk_aac).
     */
    codec: z.enum(['aac-lc', 'he-aac', 'he-aac-v2', 'eac3']).default('aac-lc'),
    channels: z.number().int().min(1).max(8).default(2),
    bitrateKbps: z.number().int().min(16).max(1024).default(128),
    /** DASH roles of this rendition (e.g. ["description"] for audio description); default: none declared. */
    roles: z.array(z.enum(TRACK_ROLES)).min(1).optional(),
    /** BCP-47 primary language (ISO 639-1 "en", or 639-2 "eng"). */
    language: z
      .string()
      .regex(/^[a-z]{2,3}$/)
      .default('en'),
    label: z.string().max(64).default('English'),
  })
  .refine((a) => a.codec !== 'eac3' || a.channels === 2 || a.channels === 6, {
    message: 'eac3 renditions are stereo (2) or 5.1 (6)',
    path: ['channels'],
  })
  .refine((a) => a.codec === 'eac3' || a.channels <= 2, {
    message: 'AAC renditions are mono or stereo here; use eac3 for 5.1',
    path: ['channels'],
  });
export type AudioRendition = z.infer<typeof AudioRendition>;

const uniqueIds = (l: { video: { id: string }[]; audio: { id: string }[] }) => {
  const ids = [...l.video, ...l.audio].map((t) => t.id);
  return new Set(ids).size === ids.length;
};

export const Ladder = z
  .object({
    name: z.string(),
    /** What the ladder is meant for (informational; the bridge logs a warning when the feed's frame rate differs). */
    sourceFrameRate: z.enum(['25', '30000/1001', '30', '50', '60000/1001']).optional(),
    video: z.array(VideoRung).min(1),
    audio: z.array(AudioRendition).min(1),
  })
  .refine(uniqueIds, { message: 'track ids must be unique across video and audio', path: ['video'] });
export type Ladder = z.infer<typeof Ladder>;

/** A light ladder that keeps two pipelines in real time on a 2-core laptop (the default). */
export const localLadder: Ladder = Ladder.parse({
  name: 'local',
  video: [
    { id: 'v540', width: 960, height: 540, bitrateKbps: 1800, preset: 'superfast' },
    { id: 'v360', width: 640, height: 360, bitrateKbps: 800, preset: 'superfast' },
    { id: 'v234', width: 416, height: 234, bitrateKbps: 300, preset: 'superfast', profile: 'baseline' },
  ],
  audio: [{ id: 'aen', language: 'en', label: 'English', bitrateKbps: 128 }],
});

/**
 * A comedy special in UHD at 30 fps: HEVC for the top of the ladder (half the bits of AVC at the
 * same quality, on the devices that decode it) beside AVC rungs every device plays; stereo AAC for
 * everyone plus E-AC-3 5.1 from the venue mix, and a second language.
 */
export const comedyUhdLadder: Ladder = Ladder.parse({
  name: 'comedy-uhd',
  sourceFrameRate: '30',
  video: [
    { id: 'h2160', codec: 'hevc', width: 3840, height: 2160, bitrateKbps: 16_000, preset: 'faster' },
    { id: 'h1440', codec: 'hevc', width: 2560, height: 1440, bitrateKbps: 9_000, preset: 'faster' },
    { id: 'h1080', codec: 'hevc', width: 1920, height: 1080, bitrateKbps: 5_000, preset: 'faster' },
    { id: 'v1080', width: 1920, height: 1080, bitrateKbps: 7_800, preset: 'veryfast', profile: 'high' },
    { id: 'v720', width: 1280, height: 720, bitrateKbps: 4_500, preset: 'veryfast', profile: 'high' },
    { id: 'v540', width: 960, height: 540, bitrateKbps: 2_000, preset: 'veryfast' },
    { id: 'v360', width: 640, height: 360, bitrateKbps: 800, preset: 'veryfast' },
  ],
  audio: [
    { id: 'aen', codec: 'aac-lc', channels: 2, bitrateKbps: 128, language: 'en', label: 'English' },
    { id: 'aen51', codec: 'eac3', channels: 6, bitrateKbps: 384, language: 'en', label: 'English 5.1' },
    { id: 'aes', codec: 'aac-lc', channels: 2, bitrateKbps: 128, language: 'es', label: 'Español' },
  ],
});

/**
 * Football in HD at 59.94 fps: high motion needs more bits per rung than the same size at 30 fps
 * (roughly +50%), HEVC beside AVC at 1080p and 720p, stereo AAC and E-AC-3 5.1 per language.
 */
export const sportsHdLadder: Ladder = Ladder.parse({
  name: 'sports-hd',
  sourceFrameRate: '60000/1001',
  video: [
    { id: 'h1080', codec: 'hevc', width: 1920, height: 1080, bitrateKbps: 7_500, preset: 'faster' },
    { id: 'v1080', width: 1920, height: 1080, bitrateKbps: 10_000, preset: 'veryfast', profile: 'high' },
    { id: 'h720', codec: 'hevc', width: 1280, height: 720, bitrateKbps: 4_500, preset: 'faster' },
    { id: 'v720', width: 1280, height: 720, bitrateKbps: 6_500, preset: 'veryfast', profile: 'high' },
    { id: 'v540', width: 960, height: 540, bitrateKbps: 3_500, preset: 'veryfast', profile: 'high' },
    { id: 'v360', width: 640, height: 360, bitrateKbps: 1_400, preset: 'veryfast' },
  ],
  audio: [
    { id: 'aen', codec: 'aac-lc', channels: 2, bitrateKbps: 128, language: 'en', label: 'English' },
    { id: 'aen51', codec: 'eac3', channels: 6, bitrateKbps: 384, language: 'en', label: 'English 5.1' },
    { id: 'aes', codec: 'aac-lc', channels: 2, bitrateKbps: 128, language: 'es', label: 'Español' },
    { id: 'aes51', codec: 'eac3', channels: 6, bitrateKbps: 384, language: 'es', label: 'Español 5.1' },
    { id: 'afr', codec: 'aac-lc', channels: 2, bitrateKbps: 128, language: 'fr', label: 'Français' },
    { id: 'ade', codec: 'aac-lc', channels: 2, bitrateKbps: 128, language: 'de', label: 'Deutsch' },
  ],
});

/**
 * One small rung and audio, for tests that run several pipelines at once on a 2-core machine
 * (test/chaos.test.ts: three bridges and two players), where `local` per pipeline falls behind.
 */
export const tinyLadder: Ladder = Ladder.parse({
  name: 'tiny',
  video: [{ id: 'v234', width: 416, height: 234, bitrateKbps: 300, preset: 'ultrafast', profile: 'baseline' }],
  audio: [{ id: 'aen', language: 'en', label: 'English', bitrateKbps: 96 }],
});

export const ladders: Record<string, Ladder> = {
  local: localLadder,
  tiny: tinyLadder,
  'comedy-uhd': comedyUhdLadder,
  'sports-hd': sportsHdLadder,
};
