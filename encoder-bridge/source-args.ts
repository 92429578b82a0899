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
  /**
   * Where UTC travels (`--utc-carrier`). `pts` (default): the PTS is UTC. `sei`: every picture
   * carries its UTC in a user_data_unregistered SEI (contract/utc-sei.ts; the two-ffmpeg layout,
   * cc608SourceArgs) and the PTS is not UTC: it starts at `ptsStartMs`.
   */
  utcCarrier?: 'pts' | 'sei';
  /**
   * With the SEI carrier: the first picture's PTS in whole milliseconds (`--pts-start-ms`,
   * default 0; near 2^33 ticks the PTS wraps soon after the start). Whole milliseconds keep
   * ffmpeg's per-frame microsecond-to-tick rounding the same as from T0 (1 ms = 90 ticks exactly).
   */
  ptsStartMs?: number;
}

/** The largest PTS start in whole milliseconds: the 33-bit 90 kHz PTS wraps after 2^33 ticks. */
export const MAX_PTS_START_MS = Math.floor(2 ** 33 / 90) - 1;

/** `-output_ts_offset` in seconds: T0 plus the grid offset. ffmpeg reads microseconds, and N/90000 s to the µs rounds back to N ticks exactly. */
export function outputTsOffset(
  opts: Pick<SourceOptions, 't0' | 'gridOffsetTicks' | 'utcCarrier' | 'ptsStartMs'>,
): string {
  const n = opts.gridOffsetTicks ?? 0;
  if (!Number.isInteger(n) || n < 0 || n >= 90_000)
    throw new RangeError(`grid offset ${n}: a whole number of 90 kHz ticks in [0, 90000)`);
  const gridUs = Math.round((n * 1e6) / 90_000);
  if (opts.utcCarrier !== 'sei') return n === 0 ? String(opts.t0) : `${opts.t0}.${String(gridUs).padStart(6, '0')}`;
  // SEI carrier: the PTS starts at ptsStartMs, not at UTC; the grid offset stays in it so that
  // every frame's PTS differs from the PTS carrier's by the same whole number of ticks.
  const ms = opts.ptsStartMs ?? 0;
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_PTS_START_MS)
    throw new RangeError(`PTS start ${ms} ms: a whole number of milliseconds in [0, ${MAX_PTS_START_MS}]`);
  const us = ms * 1000 + gridUs;
  return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
}

/**
 * The UTC (90 kHz ticks since the epoch) of picture n in the two-ffmpeg layout (cc608SourceArgs):
 * exactly the PTS the PTS carrier gives that picture, unwrapped. The muxer's stream copy of raw
 * H.264 counts each frame as a whole number of microseconds (1/fps rounded: 33,333 µs at 30 fps,
 * 33,367 at 29.97) and rounds each frame's time to the nearest tick; measured to match ffmpeg 5.1
 * on every frame of 30 s at 24–60 fps (sei-utc.e2e.test.ts checks it on the real feed).
 */
export function pictureUtcTicks(n: number, opts: Pick<SourceOptions, 't0' | 'fps' | 'gridOffsetTicks'>): number {
  const [num, den = '1'] = opts.fps.split('/');
  const frameUs = Math.round((1e6 * Number(den)) / Number(num));
  return opts.t0 * 90_000 + (opts.gridOffsetTicks ?? 0) + Math.round((n * frameUs * 9) / 100);
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
 * With CEA-608 or the SEI UTC carrier (cc608-source.ts): the first ffmpeg writes H.264 Annex B to
 * stdout, Node adds the caption and/or UTC SEI to every picture, and the second ffmpeg muxes that
 * (stream copy) with the sound.
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
