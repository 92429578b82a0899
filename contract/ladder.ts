import { z } from 'zod';

/** One video rung of an adaptive ladder. */
export const VideoRung = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/),
  codec: z.enum(['avc']).default('avc'),
  width: z.number().int().min(64).max(7680),
  height: z.number().int().min(64).max(4320),
  bitrateKbps: z.number().int().min(50).max(100_000),
  /** x264 preset: the local ladder must keep real time on 2 cores. */
  preset: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium']).default('veryfast'),
  profile: z.enum(['baseline', 'main', 'high']).default('main'),
});
export type VideoRung = z.infer<typeof VideoRung>;

export const AudioRendition = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/),
  codec: z.enum(['aac-lc']).default('aac-lc'),
  channels: z.number().int().min(1).max(8).default(2),
  bitrateKbps: z.number().int().min(16).max(1024).default(128),
  language: z.string().default('en'),
  label: z.string().default('English'),
});
export type AudioRendition = z.infer<typeof AudioRendition>;

export const Ladder = z.object({
  name: z.string(),
  video: z.array(VideoRung).min(1),
  audio: z.array(AudioRendition).min(1),
});
export type Ladder = z.infer<typeof Ladder>;

/** A light ladder that keeps real time on a 2-core laptop. */
export const localLadder: Ladder = Ladder.parse({
  name: 'local',
  video: [
    { id: 'v540', width: 960, height: 540, bitrateKbps: 1800, preset: 'superfast' },
    { id: 'v360', width: 640, height: 360, bitrateKbps: 800, preset: 'superfast' },
    { id: 'v234', width: 416, height: 234, bitrateKbps: 300, preset: 'superfast', profile: 'baseline' },
  ],
  audio: [{ id: 'aen', language: 'en', label: 'English', bitrateKbps: 128 }],
});

export const ladders: Record<string, Ladder> = { local: localLadder };
