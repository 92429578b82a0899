/** How a test fixture was encoded, and the file name that encode has under `testdata/media/`. */
export interface EncodeOptions {
  kind: 'video' | 'audio';
  /** Video: 'avc' (libx264, avc1, the default) or 'hevc' (libx265, hvc1). Audio: 'aac' (AAC-LC, the default) or 'eac3'. */
  codec?: 'avc' | 'hevc' | 'aac' | 'eac3';
  seconds?: number;
  /** Video: WxH. */
  size?: string;
  /** Video: frames per second, a number or an exact broadcast fraction (29.97, 59.94). */
  fps?: number | FractionalFps;
  /** Video: frames per GOP (closed GOP, keyframe at every boundary). */
  gop?: number;
  /** Video: encode lossless (big segments, e.g. to exceed the 2 MB storage row cap). */
  lossless?: boolean;
  /** Video: slices per picture (several VCL NAL units per sample). */
  slices?: number;
  /** Audio: 2 (default) or 6 (5.1, a distinct sine per channel). */
  channels?: 2 | 6;
  /** Bit rate in kbit/s (default: video 400, AAC 96, E-AC-3 96): keeps small fixtures small. */
  bitrateKbps?: number;
}

export type FractionalFps = '30000/1001' | '60000/1001';

/** Frames per second as a number (29.97002997… for '30000/1001'). */
export function fpsValue(fps: EncodeOptions['fps']): number {
  if (fps === undefined) return 30;
  if (typeof fps === 'number') return fps;
  const [num, den] = fps.split('/').map(Number);
  return num / den;
}

/**
 * Video track timescale for a fractional rate, the bridge's rule (docs/architecture.md, "Frame
 * rates and the video timescale"): 90 kHz when a frame is a whole number of its ticks (29.97:
 * 3003), otherwise the rate's numerator (59.94: 60000, a frame is 1001). Whole rates keep
 * ffmpeg's own choice, as the first fixtures were made.
 */
export function videoTimescale(fps: EncodeOptions['fps']): number | undefined {
  if (typeof fps !== 'string') return undefined;
  const [num, den] = fps.split('/').map(Number);
  return (90_000 * den) % num === 0 ? 90_000 : num;
}

const DEFAULT_BITRATE = { avc: 400, hevc: 400, aac: 96, eac3: 96 } as const;

/**
 * e.g. `video-320x180-30fps-4.5s.mp4`, `video-hevc-320x180-30fps-4.5s-100k.mp4`,
 * `video-320x180-29.97fps-4.5s-100k.mp4`, `audio-aac-4.5s.mp4`, `audio-eac3-5.1-4.5s.mp4`.
 * Every option that differs from its default is in the name, so two encodes never share a file.
 */
export function fixtureName(o: EncodeOptions): string {
  const seconds = `${o.seconds ?? 4.5}s`;
  const codec = o.codec ?? (o.kind === 'audio' ? 'aac' : 'avc');
  const bitrate = o.bitrateKbps !== undefined && o.bitrateKbps !== DEFAULT_BITRATE[codec] ? `-${o.bitrateKbps}k` : '';
  if (o.kind === 'audio') return `audio-${codec}${o.channels === 6 ? '-5.1' : ''}-${seconds}${bitrate}.mp4`;
  const fps = typeof o.fps === 'string' ? fpsValue(o.fps).toFixed(2) : String(o.fps ?? 30);
  const gop = o.gop && o.gop !== Math.round(fpsValue(o.fps) * 2) ? `-gop${o.gop}` : '';
  const extra = `${o.lossless ? '-lossless' : ''}${o.slices ? `-${o.slices}slices` : ''}${bitrate}`;
  return `video-${codec === 'hevc' ? 'hevc-' : ''}${o.size ?? '320x180'}-${fps}fps${gop}-${seconds}${extra}.mp4`;
}

/**
 * Flags that make an encode byte-for-byte repeatable with the same ffmpeg build: no version
 * strings from the muxer or encoders (+bitexact), one encoder thread (x264's and x265's output
 * depends on their thread count, which would otherwise follow the machine's cores).
 */
const BITEXACT = ['-threads', '1', '-flags', '+bitexact', '-fflags', '+bitexact'];

/** ffmpeg arguments (after `-y`, before the output file) that make this fixture. */
export function ffmpegArgs(o: EncodeOptions): string[] {
  const seconds = String(o.seconds ?? 4.5);
  if (o.kind === 'audio') return [...audioArgs(o, seconds), ...BITEXACT];
  const fps = o.fps ?? 30;
  const codec = o.codec === 'hevc' ? 'hevc' : 'avc';
  const bitrate = o.lossless ? ['-qp', '0'] : ['-b:v', `${o.bitrateKbps ?? DEFAULT_BITRATE[codec]}k`];
  // Whole rates: a closed GOP of `gop` frames (2 s by default). Fractional rates: 2 s is not a
  // whole number of frames, so an IDR on the first frame at or after every 2 s, as the bridge does.
  const timescale = videoTimescale(fps);
  const keyint = timescale === undefined ? (o.gop ?? Math.round(fpsValue(fps) * 2)) : 9999;
  const forced = timescale === undefined ? [] : ['-force_key_frames', 'expr:gte(t,n_forced*2)', '-forced-idr', '1'];
  const encoder =
    codec === 'hevc'
      ? [
          ...['-c:v', 'libx265', '-preset', 'ultrafast', '-profile:v', 'main', '-tag:v', 'hvc1', ...bitrate],
          // The bridge's settings (closed GOPs, parameter sets only in hvcC, no B-frames), and no
          // version SEI (info=0) and one thread: the bytes depend on neither x265's banner nor the machine.
          '-x265-params',
          `keyint=${keyint}:min-keyint=${keyint}:scenecut=0:open-gop=0:repeat-headers=0:bframes=0:info=0:` +
            'pools=none:frame-threads=1:log-level=error',
        ]
      : [
          ...['-c:v', 'libx264', '-preset', 'ultrafast', ...bitrate],
          ...['-g', String(keyint), '-keyint_min', String(keyint), '-sc_threshold', '0'],
        ];
  return [
    ...['-f', 'lavfi', '-i', `testsrc2=size=${o.size ?? '320x180'}:rate=${fps}`, '-t', seconds],
    ...encoder,
    ...forced,
    ...['-pix_fmt', 'yuv420p', ...(o.slices ? ['-x264-params', `slices=${o.slices}`] : [])],
    ...(timescale !== undefined ? ['-video_track_timescale', String(timescale)] : []),
    ...['-f', 'mp4', '-movflags', '+empty_moov+frag_keyframe+default_base_moof'],
    ...BITEXACT,
  ];
}

function audioArgs(o: EncodeOptions, seconds: string): string[] {
  const codec = o.codec ?? 'aac';
  const channels = o.channels ?? 2;
  // 5.1: a distinct sine per channel (the synthetic source's), so a channel mix-up is visible.
  const source =
    channels === 6
      ? `aevalsrc=${[440, 550, 660, 60, 770, 880].map((f) => `0.25*sin(2*PI*${f}*t)`).join('|')}:s=48000:c=5.1`
      : 'sine=frequency=440:sample_rate=48000';
  return [
    ...['-f', 'lavfi', '-i', source, '-t', seconds],
    ...[
      '-c:a',
      codec,
      '-b:a',
      `${o.bitrateKbps ?? DEFAULT_BITRATE[codec as 'aac' | 'eac3']}k`,
      '-ac',
      String(channels),
    ],
    // E-AC-3: ffmpeg writes dec3 only after it has seen a packet, so the moov waits for one.
    ...['-f', 'mp4', '-movflags', `+empty_moov+default_base_moof${codec === 'eac3' ? '+delay_moov' : ''}`],
    ...['-frag_duration', '2000000'],
  ];
}

/**
 * The CEA-608 example: the synthetic source's captions (demo cues "It is HH:MM:SS UTC" every 2 s
 * on the UTC grid, pop-on on CC1, one A/53 SEI per picture) in an MPEG-TS whose video PTS are UTC
 * (PTS = UTC × 90 kHz mod 2^33), exactly the feed shape the bridge reads, at a fixed start so the
 * bytes never change. Made by scripts/make-testdata.ts; read by TsCcReader / Cc1Captions.
 */
export const CC608_FIXTURE = {
  /** UTC second of picture 0: 2025-11-25T08:00:00Z. */
  t0: Date.UTC(2025, 10, 25, 8) / 1000,
  fps: '30000/1001' as FractionalFps,
  size: '160x90',
  seconds: 7,
  bitrateKbps: 60,
  name: 'cc608-160x90-29.97fps-7s.mpegts',
} as const;
