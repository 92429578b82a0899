import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { Language } from '../contract/control-plane.ts';
import { iso639Part2 } from './audio-mapping.ts';
import { spawnCc608Source } from './cea608/cc608-source.ts';
import {
  DEFAULT_FEED_TOKEN,
  DEFAULT_SRT_PASSPHRASE,
  DEFAULT_SRT_PBKEYLEN,
  SrtKeyLength,
  SrtPassphrase,
} from './config.ts';
import { HttpPushFanout } from './http-push-fanout.ts';
import { DualPathSender } from './rtp/dual-path-sender.ts';
import { breakSchedule, Scte35Flags, withScte35 } from './scte35/source-breaks.ts';
import { type BreakSchedule, DEMO_BREAKS } from './scte35/ts-scte35-inserter.ts';
import { DropProbability, OutageSeconds, RtpDestinations } from './rtp/rtp-options.ts';
import { MAX_PTS_START_MS, sourceArgs, type SourceOptions } from './source-args.ts';

// Tests and the bench build the same ffmpeg command lines.
export { sourceArgs, type SourceOptions } from './source-args.ts';

/**
 * The synthetic venue: an ffmpeg test pattern with a burnt-in UTC clock and a 1 kHz tone, pushed
 * as MPEG-TS over HTTP to an encoder bridge, the way a contribution encoder would — or, with
 * `--rtp host:port1,host:port2`, sent as RTP over two paths (SMPTE 2022-7), optionally impaired
 * with `--drop 0.1` and `--cut-path1 fromSec:toSec` to show the seamless merge at work.
 *
 * UTC per frame is carried in the MPEG-TS PTS itself by default (`--utc-carrier pts`): the source
 * starts on a whole second T0 and stamps frame n with PTS = (T0 + n/fps)·90 kHz mod 2^33
 * (`-output_ts_offset T0`, no mux delay); the PTS is on every frame, survives any TS remux, and
 * the bridge unwraps it unambiguously while the two clocks agree within ±13 h.
 * `--utc-carrier sei` sends it as most venue encoders do: ffmpeg 5.1's CLI cannot write a
 * per-frame changing SEI, so Node writes one between two ffmpegs (the same encoder → Node → muxer
 * layout as the captions): a user_data_unregistered SEI with each picture's UTC
 * (contract/utc-sei.ts), while the PTS starts at `--pts-start-ms` (default 0; near 95,443,717 it
 * wraps a few seconds in) and is not UTC. See docs/architecture.md "Carrying UTC per frame".
 *
 * `--cc608 on` adds CEA-608 captions of that clock to the video (cea608/cc608-source.ts); the
 * UTC carrier stays whichever was chosen (with `sei`, both SEI go in front of every picture).
 *
 * Credentials: the HTTP push carries the bridges' feed token, SRT the listener's passphrase; both
 * read the bridge's variables (BRIDGE_FEED_TOKEN, BRIDGE_SRT_PASSPHRASE) with the same local-dev
 * defaults, so `npm start` and the tests authenticate without configuration. RTP has no
 * credential: the bridge accepts senders on its allow-list.
 *
 * `--scte35 300` (the default; 0: off) adds a 30 s ad break (`--scte35-duration`) every 300 s as
 * SCTE-35 on its own PID, as a venue encoder with an ad trigger does (scte35/source-breaks.ts):
 * ffmpeg 5.1 cannot mux SCTE-35, so Node adds it to the finished feed (not with --srt).
 */
// Parsed only when run as a program, so tests can import sourceArgs without their argv being read.
const parseFlags = () =>
  parseArgs({
    options: {
      /** One or more bridge feed URLs, comma separated: every pipeline gets the same feed. */
      push: { type: 'string', default: 'http://127.0.0.1:9001/feed' },
      fps: { type: 'string', default: '30' },
      size: { type: 'string', default: '960x540' },
      ffmpeg: { type: 'string', default: process.env.FFMPEG_PATH ?? 'ffmpeg' },
      /** Stop after this many seconds (0: run until killed). */
      duration: { type: 'string', default: '0' },
      /** The bridges' feed token (Authorization: Bearer on the HTTP push); the same variable and default as the bridge's. */
      'feed-token': { type: 'string', default: process.env.BRIDGE_FEED_TOKEN ?? DEFAULT_FEED_TOKEN },
      /** SRT instead of HTTP push: srt://host:port (the bridge listens with --srt-port). */
      srt: { type: 'string' },
      /** With --srt: the listener's passphrase and key length; the same variables and defaults as the bridge's. */
      'srt-passphrase': { type: 'string', default: process.env.BRIDGE_SRT_PASSPHRASE ?? DEFAULT_SRT_PASSPHRASE },
      'srt-pbkeylen': { type: 'string', default: process.env.BRIDGE_SRT_PBKEYLEN ?? String(DEFAULT_SRT_PBKEYLEN) },
      /** Two-path RTP instead of HTTP push: host:port1,host:port2 (SMPTE 2022-7 contribution). */
      rtp: { type: 'string' },
      /** With --rtp: drop this share of packets on each path (different packets per path). */
      drop: { type: 'string', default: '0' },
      /** With --rtp: path 1 sends nothing from fromSec to toSec after the first packet. */
      'cut-path1': { type: 'string' },
      'cut-path2': { type: 'string' },
      /** With --rtp: PRNG seed for --drop, so a demo run is reproducible. */
      seed: { type: 'string', default: '1' },
      /** tone: one untagged stereo 1 kHz tone (light, the default). full: English 5.1 + Spanish stereo (sourceAudioArgs). */
      audio: { type: 'string', default: 'tone' },
      /** Instead of --audio: one stereo stream per language (en,es,fr,de), tagged in the PMT, the i-th a 440 + 220·i Hz tone (source-args.ts, languageToneHz). */
      'audio-languages': { type: 'string' },
      /** on: CEA-608 captions on CC1 ("It is HH:MM:SS UTC" every 2 s) as A/53 SEI in the video (cea608/cc608-source.ts). */
      cc608: { type: 'string', default: 'off' },
      /** Offset the frame grid from the UTC second by N 90 kHz ticks (0–89999): every PTS is UTC + N/90000 s, like a venue whose frames do not start on the second. */
      'grid-offset-ticks': { type: 'string', default: '0' },
      /** Seconds between ad breaks, each a splice_insert on its own PID (scte35/source-breaks.ts); 0: none. With --srt none (ffmpeg sends itself). */
      scte35: { type: 'string', default: String(DEMO_BREAKS.periodMs / 1000) },
      /** Length of each ad break in seconds. */
      'scte35-duration': { type: 'string', default: String(DEMO_BREAKS.durationMs / 1000) },
      /** Where UTC travels: pts (the PTS is UTC) or sei (a UTC SEI per picture; the PTS starts at --pts-start-ms). */
      'utc-carrier': { type: 'string', default: 'pts' },
      /** With --utc-carrier sei: the first picture's PTS in whole ms (0 to 95443716; e.g. 95440000 wraps about 3.7 s in). */
      'pts-start-ms': { type: 'string', default: '0' },
    },
  }).values;

if (import.meta.url === `file://${process.argv[1]}`) {
  // Start on a whole second so that, at integer frame rates, frames sit on the epoch grid.
  const values = parseFlags();
  if (values.audio !== 'tone' && values.audio !== 'full') {
    console.error(`invalid source flags:\n  --audio: must be tone or full, got "${values.audio}"`);
    process.exit(2);
  }
  if (values.cc608 !== 'on' && values.cc608 !== 'off') {
    console.error(`invalid source flags:\n  --cc608: must be on or off, got "${values.cc608}"`);
    process.exit(2);
  }
  const gridOffsetTicks = Number(values['grid-offset-ticks']);
  if (!/^\d+$/.test(values['grid-offset-ticks']!) || gridOffsetTicks >= 90_000) {
    console.error(
      `invalid source flags:\n  --grid-offset-ticks: a whole number of 90 kHz ticks from 0 to 89999, got "${values['grid-offset-ticks']}"`,
    );
    process.exit(2);
  }
  const utc = utcCarrierFromFlags(values);
  const audioLanguages = values['audio-languages'] === undefined ? undefined : audioLanguagesFromFlags(values);
  const rtp = values.rtp === undefined ? undefined : rtpSenderFromFlags(values);
  const breaks = scte35FromFlags(values);
  const srtCredentials = values.srt === undefined ? undefined : srtCredentialsFromFlags(values);
  const t0 = Math.ceil(Date.now() / 1000) + 1;
  await new Promise((r) => setTimeout(r, t0 * 1000 - Date.now()));
  // ffmpeg writes the feed to stdout; Node sends it on (RTP on two paths, or HTTP push to every
  // bridge with reconnects, so one pipeline restarting never interrupts the others).
  // With --srt, ffmpeg's libsrt is the caller and sends itself.
  const srt =
    values.srt === undefined
      ? undefined
      : `${values.srt}${values.srt.includes('?') ? '&' : '?'}mode=caller&transtype=live`;
  const opts: SourceOptions = {
    t0,
    fps: values.fps!,
    size: values.size!,
    push: [srt ?? 'pipe:1'],
    durationSeconds: Number(values.duration),
    audio: values.audio,
    audioLanguages,
    srt: srtCredentials,
    gridOffsetTicks,
    ...utc,
  };
  // With captions or the SEI carrier, two ffmpegs and Node in between; without, one ffmpeg (the light default).
  const child =
    values.cc608 === 'on' || utc.utcCarrier === 'sei'
      ? spawnCc608Source(
          values.ffmpeg!,
          opts,
          { muxOut: srt ? 'inherit' : 'pipe' },
          { captions: values.cc608 === 'on' },
        ).mux
      : spawn(values.ffmpeg!, sourceArgs(opts), { stdio: ['ignore', srt ? 'inherit' : 'pipe', 'inherit'] });
  console.log(
    `${new Date().toISOString()} [source] test pattern ${values.size}@${values.fps} fps${values.cc608 === 'on' ? ' with CEA-608 CC1' : ''} from UTC ${t0}${utc.utcCarrier === 'sei' ? ` (UTC in SEI, PTS from ${utc.ptsStartMs} ms)` : ''}${gridOffsetTicks ? ` (frame grid ${gridOffsetTicks} ticks after the second)` : ''} → ${rtp ? `RTP ${values.rtp}` : srt ? `SRT ${values.srt}` : values.push}`,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill('SIGTERM'));
  const log = (message: string) => console.log(`${new Date().toISOString()} [source] ${message}`);
  if (breaks && !srt)
    log(
      `SCTE-35: a ${breaks.durationMs / 1000} s ad break every ${breaks.periodMs / 1000} s (splice_insert on PID 0x1f0)`,
    );
  const feed = srt ? undefined : withScte35(child.stdout!, breaks, opts);
  const sent = !feed
    ? Promise.resolve()
    : rtp
      ? rtp.pipeFrom(feed)
      : new HttpPushFanout(values.push!.split(','), { token: values['feed-token'], log }).pipeFrom(feed);
  child.on('exit', async (code) => {
    await sent;
    if (rtp)
      console.log(
        `${new Date().toISOString()} [source] RTP packets ${rtp.counters.packets}: ${rtp.counters.paths.map((p, i) => `path ${i + 1} sent ${p.sent}, dropped ${p.dropped}, cut ${p.cut}`).join('; ')}`,
      );
    process.exit(code ?? 0);
  });
}

function audioLanguagesFromFlags(values: ReturnType<typeof parseFlags>): string[] {
  const parsed = z
    .string()
    .transform((v) => v.split(',').map((l) => l.trim()))
    .pipe(
      z
        .array(Language.refine((l) => iso639Part2(l) !== undefined, 'no ISO 639-2 code known for this language'))
        .min(1)
        .max(8),
    )
    .safeParse(values['audio-languages']);
  if (!parsed.success) {
    console.error(
      `invalid source flags:\n${parsed.error.issues.map((i) => `  --audio-languages: ${i.message}`).join('\n')}`,
    );
    process.exit(2);
  }
  return parsed.data;
}

function utcCarrierFromFlags(values: ReturnType<typeof parseFlags>): Pick<SourceOptions, 'utcCarrier' | 'ptsStartMs'> {
  const parsed = z
    .object({
      'utc-carrier': z.enum(['pts', 'sei']),
      'pts-start-ms': z
        .string()
        .regex(/^\d+$/, 'a whole number of milliseconds')
        .transform(Number)
        .pipe(z.number().max(MAX_PTS_START_MS)),
    })
    .safeParse(values);
  if (!parsed.success) {
    console.error(
      `invalid source flags:\n${parsed.error.issues.map((i) => `  --${String(i.path[0])}: ${i.message}`).join('\n')}`,
    );
    process.exit(2);
  }
  return { utcCarrier: parsed.data['utc-carrier'], ptsStartMs: parsed.data['pts-start-ms'] };
}

function scte35FromFlags(values: ReturnType<typeof parseFlags>): BreakSchedule | undefined {
  const parsed = Scte35Flags.safeParse(values);
  if (!parsed.success) {
    console.error(
      `invalid source flags:\n${parsed.error.issues.map((i) => `  --${String(i.path[0])}: ${i.message}`).join('\n')}`,
    );
    process.exit(2);
  }
  return breakSchedule(parsed.data);
}

function srtCredentialsFromFlags(values: ReturnType<typeof parseFlags>): { passphrase: string; pbkeylen: number } {
  const parsed = z.object({ 'srt-passphrase': SrtPassphrase, 'srt-pbkeylen': SrtKeyLength }).safeParse(values);
  if (!parsed.success) {
    console.error(
      `invalid source flags:\n${parsed.error.issues.map((i) => `  --${String(i.path[0])}: ${i.message}`).join('\n')}`,
    );
    process.exit(2);
  }
  return { passphrase: parsed.data['srt-passphrase'], pbkeylen: parsed.data['srt-pbkeylen'] };
}

function rtpSenderFromFlags(values: ReturnType<typeof parseFlags>): DualPathSender {
  const parsed = z
    .object({
      rtp: RtpDestinations,
      drop: DropProbability,
      seed: z.coerce.number().int(),
      'cut-path1': OutageSeconds.optional(),
      'cut-path2': OutageSeconds.optional(),
    })
    .safeParse(values);
  if (!parsed.success) {
    console.error(
      `invalid source flags:\n${parsed.error.issues.map((i) => `  --${String(i.path[0])}: ${i.message}`).join('\n')}`,
    );
    process.exit(2);
  }
  const { rtp, drop, seed, 'cut-path1': cut1, 'cut-path2': cut2 } = parsed.data;
  return new DualPathSender({
    destinations: rtp,
    impairment: {
      seed,
      paths: [
        { drop, outages: cut1 ? [cut1] : [] },
        { drop, outages: cut2 ? [cut2] : [] },
      ],
    },
  });
}
