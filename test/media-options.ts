/** How a test fixture was encoded, and the file name that encode has under `testdata/media/`. */
export interface EncodeOptions {
  kind: 'video' | 'audio';
  seconds?: number;
  /** Video: WxH. */
  size?: string;
  fps?: number;
  /** Video: frames per GOP (closed GOP, keyframe at every boundary). */
  gop?: number;
  /** Video: encode lossless (big segments, e.g. to exceed the 2 MB storage row cap). */
  lossless?: boolean;
  /** Video: slices per picture (several VCL NAL units per sample). */
  slices?: number;
}

/** e.g. `video-320x180-30fps-4.5s.mp4`, `audio-aac-4.5s.mp4`. */
export function fixtureName(o: EncodeOptions): string {
  const seconds = `${o.seconds ?? 4.5}s`;
  if (o.kind === 'audio') return `audio-aac-${seconds}.mp4`;
  const gop = o.gop && o.gop !== (o.fps ?? 30) * 2 ? `-gop${o.gop}` : '';
  const extra = `${o.lossless ? '-lossless' : ''}${o.slices ? `-${o.slices}slices` : ''}`;
  return `video-${o.size ?? '320x180'}-${o.fps ?? 30}fps${gop}-${seconds}${extra}.mp4`;
}

/** ffmpeg arguments (after `-y`, before the output file) that make this fixture. */
export function ffmpegArgs(o: EncodeOptions): string[] {
  const seconds = String(o.seconds ?? 4.5);
  const fps = o.fps ?? 30;
  const gop = o.gop ?? fps * 2;
  if (o.kind === 'audio') {
    return [
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', seconds],
      ...['-c:a', 'aac', '-b:a', '96k', '-ac', '2'],
      ...['-f', 'mp4', '-movflags', '+empty_moov+default_base_moof', '-frag_duration', '2000000'],
    ];
  }
  return [
    ...['-f', 'lavfi', '-i', `testsrc2=size=${o.size ?? '320x180'}:rate=${fps}`, '-t', seconds],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', ...(o.lossless ? ['-qp', '0'] : ['-b:v', '400k'])],
    ...['-pix_fmt', 'yuv420p', ...(o.slices ? ['-x264-params', `slices=${o.slices}`] : [])],
    ...['-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0'],
    ...['-f', 'mp4', '-movflags', '+empty_moov+frag_keyframe+default_base_moof'],
  ];
}
