/** The synthetic source's ffmpeg command lines (synthetic-source.ts runs them). */
import { iso639Part2 } from './audio-mapping.ts';

/**
 * `full` audio: stream 0 English 5.1 (a distinct sine per channel, so a wrong down-mix or channel
 * order is audible and measurable), stream 1 Spanish stereo; the language goes into the PMT's
 * ISO 639 descriptor, which is how the bridge maps renditions to streams.
 */
const sines = (hz: number[]) => hz.map((f) => `0.25*sin(2*PI*${f}*t)`).join('|');

/**
 * The test tone of the i-th audio language (`--audio-languages`): 440 + 220·i Hz, so en,es,fr,de
 * are 440, 660, 880 and 1100 Hz and eight languages stay under 2 kHz, far apart for an FFT and
 * well inside what AAC and E-AC-3 keep at any bitrate.
 */
export const languageToneHz = (index: number) => 440 + 220 * index;

/** One stereo AAC stream per language, a sine of its own, tagged with its ISO 639-2 code in the PMT. */
function languageAudioArgs(languages: string[]): { inputs: string[]; output: string[] } {
  return {
    inputs: languages.flatMap((_, i) => ['-f', 'lavfi', '-i', `sine=frequency=${languageToneHz(i)}:sample_rate=48000`]),
    output: [
      '-map',
      '0:v',
      ...languages.flatMap((_, i) => ['-map', `${i + 1}:a`]),
      ...languages.flatMap((language, i) => {
        const code = iso639Part2(language);
        if (!code) throw new RangeError(`audio language "${language}": no ISO 639-2 code known for it`);
        return [`-metadata:s:a:${i}`, `language=${code}`];
      }),
      '-c:a',
      'aac',
      '-b:a',
      '96k',
      '-ac',
      '2',
    ],
  };
}

function sourceAudioArgs(audio: 'tone' | 'full', languages?: string[]): { inputs: string[]; output: string[] } {
  if (languages) return languageAudioArgs(languages);
  if (audio === 'tone')
    return {
      inputs: ['-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000'],
      output: ['-c:a', 'aac', '-b:a', '128k', '-ac', '2'],
    };
  return {
    inputs: [
      '-f',
      'lavfi',
      '-i',
      `aevalsrc=${sines([440, 550, 660, 60, 770, 880])}:s=48000:c=5.1`,
      '-f',
      'lavfi',
      '-i',
      `aevalsrc=${sines([500, 600])}:s=48000:c=stereo`,
    ],
    output: [
      '-map',
      '0:v',
      '-map',
      '1:a',
      '-map',
      '2:a',
      '-metadata:s:a:0',
      'language=eng',
      '-metadata:s:a:1',
      'language=spa',
      '-c:a',
      'aac',
      '-b:a:0',
      '384k',
      '-b:a:1',
      '128k',
    ],
  };
}

export interface SourceOptions {
  t0: number;
  fps: string;
  size: string;
  push: string[];
  durationSeconds: number;
  audio?: 'tone' | 'full';
  /** One tagged tone per language instead of `audio` (`--audio-languages en,es`): languageToneHz gives each one's frequency. */
  audioLanguages?: string[];
  /** false drops `-re` (tests: the bridge does not need real time, only PTS near the clock). */
  realtime?: boolean;
  /** For an `srt://` output: the listener's passphrase and key length (the bridge enforces encryption). */
  srt?: { passphrase: string; pbkeylen: number };
  /**
   * Shift every PTS by this many 90 kHz ticks (0 ≤ N < 90000): a venue whose frame grid is offset
   * from the UTC second (`--grid-offset-ticks`). The burnt-in clock and the captions keep T0.
   */
  gridOffsetTicks?: number;
}

/** `-output_ts_offset` in seconds: T0 plus the grid offset. ffmpeg reads microseconds, and N/90000 s to the µs rounds back to N ticks exactly. */
export function outputTsOffset(opts: Pick<SourceOptions, 't0' | 'gridOffsetTicks'>): string {
  const n = opts.gridOffsetTicks ?? 0;
  if (!Number.isInteger(n) || n < 0 || n >= 90_000)
    throw new RangeError(`grid offset ${n}: a whole number of 90 kHz ticks in [0, 90000)`);
  return n === 0 ? String(opts.t0) : `${opts.t0}.${String(Math.round((n * 1e6) / 90_000)).padStart(6, '0')}`;
}

/** The burnt-in clock, picture input and H.264 settings shared by both source layouts. */
function videoArgs(opts: SourceOptions): { input: string[]; encode: string[] } {
  const clock = `drawtext=text='UTC %{pts\\:gmtime\\:${opts.t0}\\:%H\\\\\\:%M\\\\\\:%S}  frame %{n}':fontsize=40:fontcolor=white:box=1:boxcolor=black@0.7:x=24:y=24`;
  const [num, den = '1'] = opts.fps.split('/');
  // A keyframe every half second, like contribution encoders tuned for fast join: a bridge that
  // (re)starts mid-event can decode within 0.5 s.
  const gop = Math.max(1, Math.round(Number(num) / Number(den) / 2));
  return {
    input: [
      ...(opts.realtime === false ? [] : ['-re']),
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${opts.size}:rate=${opts.fps}`,
    ],
    encode: [
      '-vf',
      clock,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-g',
      String(gop),
      '-b:v',
      '4000k',
    ],
  };
}

const durationArgs = (opts: SourceOptions) => (opts.durationSeconds > 0 ? ['-t', String(opts.durationSeconds)] : []);
const tsOutputs = (opts: SourceOptions) => [
  '-output_ts_offset',
  outputTsOffset(opts),
  ...opts.push.flatMap((url) => [
    '-f',
    'mpegts',
    '-muxdelay',
    '0',
    '-muxpreload',
    '0',
    ...(url.startsWith('http') ? ['-method', 'PUT'] : []),
    // libsrt options, not URL query: a passphrase then needs no escaping (ffmpeg does not decode it).
    ...(url.startsWith('srt:') && opts.srt
      ? ['-passphrase', opts.srt.passphrase, '-pbkeylen', String(opts.srt.pbkeylen)]
      : []),
    url,
  ]),
];

/** One ffmpeg: picture, clock, sound, MPEG-TS. */
export function sourceArgs(opts: SourceOptions): string[] {
  const audio = sourceAudioArgs(opts.audio ?? 'tone', opts.audioLanguages);
  const video = videoArgs(opts);
  return [
    '-hide_banner',
    '-loglevel',
    'warning',
    '-nostdin',
    ...video.input,
    ...audio.inputs,
    ...durationArgs(opts),
    ...video.encode,
    ...audio.output,
    ...tsOutputs(opts),
  ];
}

/**
 * With CEA-608 (cc608-source.ts): the first ffmpeg writes H.264 Annex B to stdout, Node adds the
 * caption SEI to every picture, and the second ffmpeg muxes that (stream copy) with the sound.
 * Raw H.264 has no timestamps, so the muxer regenerates them from the frame rate (`+genpts`):
 * picture n gets n/fps, and `-output_ts_offset T0` makes it the same PTS as the one-ffmpeg layout.
 */
export function cc608SourceArgs(opts: SourceOptions): { video: string[]; mux: string[] } {
  const audio = sourceAudioArgs(opts.audio ?? 'tone', opts.audioLanguages);
  const video = videoArgs(opts);
  // -re per sound input: it must be generated at the pace the pictures arrive, not ahead of them.
  const audioInputs =
    opts.realtime === false ? audio.inputs : audio.inputs.flatMap((a) => (a === '-f' ? ['-re', a] : [a]));
  return {
    video: [
      '-hide_banner',
      '-loglevel',
      'warning',
      '-nostdin',
      ...video.input,
      ...durationArgs(opts),
      ...video.encode,
      '-f',
      'h264',
      'pipe:1',
    ],
    mux: [
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      '-fflags',
      '+genpts',
      '-probesize',
      '32',
      '-analyzeduration',
      '0',
      '-thread_queue_size',
      '256',
      '-framerate',
      opts.fps,
      '-f',
      'h264',
      '-i',
      'pipe:0',
      ...audioInputs,
      ...durationArgs(opts),
      '-c:v',
      'copy',
      ...audio.output,
      ...tsOutputs(opts),
    ],
  };
}
