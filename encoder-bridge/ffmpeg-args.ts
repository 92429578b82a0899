import type { Ladder, VideoRung } from '../contract/ladder.ts';
import { audioCodecSpec } from './audio-codecs.ts';
import type { MappedRendition } from './audio-mapping.ts';
import { audioTrimSamples, keyframeExpression, type TimingPlan } from './timing-plan.ts';

/** One ffmpeg output: which track it is and the file descriptor it is written to. */
export interface OutputSpec {
  trackId: string;
  kind: 'video' | 'audio';
  /** Child stdio index (3, 4, …). */
  fd: number;
}

export interface FfmpegArgsOptions {
  /** Video track timescale (frame-rate.ts: 90000, or 60000 at 59.94). Default 90000. */
  videoTimescale?: number;
  /** Audio renditions and the source stream each one takes (audio-mapping.ts). Default: every rendition from the first audio stream. */
  audio?: MappedRendition[];
}

/** Fragment per frame so the bridge can regroup samples into epoch segments itself. */
const fmp4 = (extraMovflags = '') => [
  '-f',
  'mp4',
  '-movflags',
  `+empty_moov+frag_every_frame+default_base_moof${extraMovflags}`,
  '-flush_packets',
  '1',
];

/** Name of the showinfo probe on the video branch; audio probes are named after their track. */
export const VIDEO_PROBE = 'video';

const LAYOUTS: Record<number, string> = { 1: 'mono', 2: 'stereo', 6: '5.1' };

/**
 * The ffmpeg command line for one run of the ladder. Input is MPEG-TS on stdin whose PTS carry
 * UTC; `-copyts -itsoffset` turn them into t = UTC − base (see timing-plan.ts).
 *
 * A `select eq(n,0)` branch with a named showinfo (`showinfo@video`, `ashowinfo@<track>`) prints
 * the first frame's exact timestamp once per run: ffmpeg's mp4 muxer starts every output's tfdt
 * at 0, so the bridge anchors the outputs itself.
 */
export function buildFfmpegArgs(
  ladder: Ladder,
  plan: TimingPlan,
  segmentDurationMs: number,
  opts: FfmpegArgsOptions = {},
): { args: string[]; outputs: OutputSpec[] } {
  const rungs = ladder.video;
  const audio = opts.audio ?? ladder.audio.map((rendition) => ({ rendition, source: '0:a:0' }));
  const vSplit = rungs.map((_, i) => `[vs${i}]`).join('');
  const filter = [
    `[0:v]trim=start_pts=${plan.videoTrimPts},split=${rungs.length + 1}${vSplit}[vprobe]`,
    ...rungs.map((r, i) => `[vs${i}]scale=${r.width}:${r.height}:flags=bicubic,format=yuv420p[v${i}]`),
    `[vprobe]select='eq(n\\,0)',showinfo@${VIDEO_PROBE},nullsink`,
    ...audio.flatMap(({ rendition: a, source }, i) => {
      const trim = audioTrimSamples(plan, audioCodecSpec(a.codec));
      // aformat fixes the layout (down-mixing 5.1 to stereo where asked) before the cut.
      return [
        `[${source}]aresample=48000,aformat=sample_rates=48000:channel_layouts=${LAYOUTS[a.channels] ?? `${a.channels}c`},atrim=start_pts=${trim},asplit=2[a${i}][ap${i}]`,
        `[ap${i}]aselect='eq(n\\,0)',ashowinfo@${a.id},anullsink`,
      ];
    }),
  ].join(';');

  const args = [
    '-hide_banner',
    '-nostats',
    '-loglevel',
    'info',
    '-nostdin',
    '-probesize',
    '2000000',
    '-analyzeduration',
    '1500000',
    '-fflags',
    '+genpts',
    '-copyts',
    '-itsoffset',
    plan.itsOffset,
    '-f',
    'mpegts',
    '-i',
    'pipe:0',
    '-filter_complex',
    filter,
  ];
  const outputs: OutputSpec[] = [];
  // Keyframes exactly where a segment starts, decided from each frame's own feed PTS: the video
  // encoders work in the feed's 90 kHz clock (-enc_time_base), so ffmpeg keeps every frame's
  // timestamp (t = UTC − base, to the tick) instead of counting frames of 1/fps, and the
  // keyframe expression (timing-plan.ts: keyframeExpression) puts an IDR on the first frame of
  // every segment as the muxer and the segmenter will number it. Closed GOPs.
  const videoTimescale = opts.videoTimescale ?? 90_000;
  const keyframes = [
    '-forced-idr',
    '1',
    '-force_key_frames',
    `expr:${keyframeExpression(plan, videoTimescale, segmentDurationMs)}`,
  ];
  rungs.forEach((r, i) => {
    const fd = 3 + outputs.length;
    outputs.push({ trackId: r.id, kind: 'video', fd });
    args.push(
      '-map',
      `[v${i}]`,
      ...encoderArgs(r),
      '-b:v',
      `${r.bitrateKbps}k`,
      '-maxrate',
      `${Math.round(r.bitrateKbps * 1.2)}k`,
      '-bufsize',
      `${r.bitrateKbps * 2}k`,
      ...keyframes,
      '-fps_mode',
      'passthrough',
      '-enc_time_base',
      '1/90000',
      '-video_track_timescale',
      String(videoTimescale),
      ...fmp4(),
      `pipe:${fd}`,
    );
  });
  audio.forEach(({ rendition: a }, i) => {
    const fd = 3 + outputs.length;
    const spec = audioCodecSpec(a.codec);
    outputs.push({ trackId: a.id, kind: 'audio', fd });
    args.push(
      '-map',
      `[a${i}]`,
      '-c:a',
      spec.encoder,
      '-b:a',
      `${a.bitrateKbps}k`,
      '-ac',
      String(a.channels),
      '-ar',
      '48000',
      ...fmp4(spec.extraMovflags),
      `pipe:${fd}`,
    );
  });
  return { args, outputs };
}

/**
 * Encoder and GOP settings per codec. Both: no B-frames (zerolatency: decode order = presentation
 * order), no scene-cut keyframes, no periodic keyframes (only the forced ones at boundaries).
 */
function encoderArgs(r: VideoRung): string[] {
  if (r.codec === 'hevc') {
    return [
      '-c:v',
      'libx265',
      '-preset',
      r.preset,
      '-tune',
      'zerolatency',
      '-profile:v',
      'main',
      '-tag:v',
      'hvc1',
      // Closed GOPs (open-gop=0) so every segment decodes on its own; parameter sets only in the
      // init (repeat-headers=0), which keeps A's and B's init segments identical.
      '-x265-params',
      'keyint=9999:min-keyint=9999:scenecut=0:open-gop=0:repeat-headers=0:log-level=warning',
    ];
  }
  return [
    '-c:v',
    'libx264',
    '-preset',
    r.preset,
    '-tune',
    'zerolatency',
    '-profile:v',
    r.profile,
    '-g',
    '9999',
    '-keyint_min',
    '9999',
    '-sc_threshold',
    '0',
  ];
}

/** The first frame timestamps reported by the showinfo/ashowinfo probes, with the probe's name. */
export function parseFirstFrame(line: string): { kind: 'video' | 'audio'; probe: string; pts: number } | undefined {
  const m = /\[(a?)showinfo@([\w-]+) @ [^\]]+\] n:\s*0\s+pts:\s*(-?\d+)/.exec(line);
  if (!m) return undefined;
  return { kind: m[1] === 'a' ? 'audio' : 'video', probe: m[2], pts: Number(m[3]) };
}
