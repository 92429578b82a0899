import type { Ladder } from '../contract/ladder.ts';
import type { TimingPlan } from './timing-plan.ts';

/** One ffmpeg output: which track it is and the file descriptor it is written to. */
export interface OutputSpec {
  trackId: string;
  kind: 'video' | 'audio';
  /** Child stdio index (3, 4, …). */
  fd: number;
}

/** Fragment per frame so the bridge can regroup samples into epoch segments itself. */
const FMP4 = ['-f', 'mp4', '-movflags', '+empty_moov+frag_every_frame+default_base_moof', '-flush_packets', '1'];

/**
 * The ffmpeg command line for one run of the ladder. Input is MPEG-TS on stdin whose PTS carry
 * UTC; `-copyts -itsoffset` turn them into t = UTC − base (see timing-plan.ts).
 *
 * A `select eq(n,0)` branch with showinfo prints the first frame's exact timestamp once per run:
 * ffmpeg's mp4 muxer starts every output's tfdt at 0, so the bridge anchors the outputs itself.
 */
export function buildFfmpegArgs(ladder: Ladder, plan: TimingPlan, segmentDurationMs: number): { args: string[]; outputs: OutputSpec[] } {
  const d = segmentDurationMs / 1000;
  const rungs = ladder.video;
  const audio = ladder.audio[0];
  const vSplit = rungs.map((_, i) => `[vs${i}]`).join('');
  const scales = rungs.map((r, i) => `[vs${i}]scale=${r.width}:${r.height}:flags=bicubic,format=yuv420p[v${i}]`).join(';');
  const filter = [
    `[0:v]trim=start_pts=${plan.videoTrimPts},split=${rungs.length + 1}${vSplit}[vprobe]`,
    scales,
    `[vprobe]select='eq(n\\,0)',showinfo,nullsink`,
    `[0:a]aresample=48000,atrim=start_pts=${plan.audioTrimPts},asplit=2[a0][aprobe]`,
    `[aprobe]aselect='eq(n\\,0)',ashowinfo,anullsink`,
  ].join(';');

  const args = [
    '-hide_banner', '-nostats', '-loglevel', 'info', '-nostdin',
    '-probesize', '2000000', '-analyzeduration', '1500000', '-fflags', '+genpts',
    '-copyts', '-itsoffset', plan.itsOffset, '-f', 'mpegts', '-i', 'pipe:0',
    '-filter_complex', filter,
  ];
  const outputs: OutputSpec[] = [];
  rungs.forEach((r, i) => {
    const fd = 3 + outputs.length;
    outputs.push({ trackId: r.id, kind: 'video', fd });
    args.push(
      '-map', `[v${i}]`,
      '-c:v', 'libx264', '-preset', r.preset, '-tune', 'zerolatency', '-profile:v', r.profile,
      '-b:v', `${r.bitrateKbps}k`, '-maxrate', `${Math.round(r.bitrateKbps * 1.2)}k`, '-bufsize', `${r.bitrateKbps * 2}k`,
      // Keyframes only where a segment starts: at S and every D after it. Closed GOPs, IDR.
      // ffmpeg's t here counts from the first encoded frame (which falls firstFrameOffset after
      // S), and is computed in floating point; half a millisecond of slack, far less than a
      // frame, keeps a frame exactly on a boundary the keyframe.
      '-g', '9999', '-keyint_min', '9999', '-sc_threshold', '0', '-forced-idr', '1',
      '-force_key_frames', `expr:gte(t,n_forced*${d}-${plan.firstFrameOffsetSeconds.toFixed(6)}-0.0005)`,
      '-fps_mode', 'passthrough', '-video_track_timescale', '90000',
      ...FMP4, `pipe:${fd}`,
    );
  });
  const fd = 3 + outputs.length;
  outputs.push({ trackId: audio.id, kind: 'audio', fd });
  args.push('-map', '[a0]', '-c:a', 'aac', '-b:a', `${audio.bitrateKbps}k`, '-ac', String(audio.channels), '-ar', '48000', ...FMP4, `pipe:${fd}`);
  return { args, outputs };
}

/** The first frame timestamps reported by the showinfo/ashowinfo probes. */
export function parseFirstFrame(line: string): { kind: 'video' | 'audio'; pts: number } | undefined {
  const m = /Parsed_(a?)showinfo_\d+ @ [^\]]+\] n:\s*0\s+pts:\s*(-?\d+)/.exec(line);
  if (!m) return undefined;
  return { kind: m[1] === 'a' ? 'audio' : 'video', pts: Number(m[2]) };
}
