/**
 * `npm run testdata`: (re)make the checked-in media under testdata/media/ with ffmpeg, then commit
 * the result; unit tests only read these files and never start ffmpeg (testdata/README.md).
 *
 *   npm run testdata                 remake every file
 *   npm run testdata -- hevc 29.97   remake only the files whose name contains one of these words
 *   npm run testdata -- --list       print the file names and the ffmpeg command of each
 *
 * The encodes are repeatable byte for byte with the same ffmpeg build (+bitexact, one encoder
 * thread, fixed sources and timestamps): remaking a file with nothing changed leaves git clean.
 * Expected outputs cut from this media (testdata/expected/) are refreshed by the tests that read
 * them, with UPDATE_GOLDEN=1 (testdata/README.md, "Refreshing golden files").
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { a53CcSeiNal } from '../encoder-bridge/cea608/a53-sei.ts';
import { AnnexBSeiInserter } from '../encoder-bridge/cea608/annexb-sei-inserter.ts';
import { captionSchedule } from '../encoder-bridge/cea608/caption-schedule.ts';
import { CC608_INTERVAL_MS } from '../encoder-bridge/cea608/cc608-source.ts';
import { demoCueText } from '../encoder-bridge/synthetic-captions.ts';
import { CC608_FIXTURE, type EncodeOptions, ffmpegArgs, fixtureName } from '../test/media-options.ts';

const FFMPEG = process.env.FFMPEG ?? 'ffmpeg';
const dir = join(import.meta.dirname, '..', 'testdata', 'media');

/** The encodes unit tests use (test/media.ts `loadMedia`); testdata/README.md says what each is for. */
export const FIXTURES: EncodeOptions[] = [
  { kind: 'video' },
  { kind: 'audio' },
  { kind: 'video', size: '640x360' },
  { kind: 'video', size: '640x360', slices: 4 },
  { kind: 'video', codec: 'hevc', bitrateKbps: 100 },
  { kind: 'audio', codec: 'eac3', channels: 6 },
  { kind: 'video', fps: '30000/1001', bitrateKbps: 100 },
  { kind: 'video', fps: '60000/1001', bitrateKbps: 100 },
];

const MP4_BOX = ['-v', 'error', '-y'];

/** One fixture: ffmpeg writes the file itself. */
function makeEncode(options: EncodeOptions): string {
  const out = join(dir, fixtureName(options));
  execFileSync(FFMPEG, [...MP4_BOX, ...ffmpegArgs(options), out], { stdio: 'inherit' });
  return out;
}

/**
 * The CEA-608 feed (CC608_FIXTURE), made the way the synthetic source makes it
 * (encoder-bridge/cea608/cc608-source.ts): ffmpeg encodes H.264 Annex B, Node adds the A/53
 * caption SEI to every picture (captionSchedule: the demo cue for UTC t shows from the first
 * picture at or after t), and a second ffmpeg muxes it into MPEG-TS with PTS = UTC. Here the two
 * steps run one after the other on the whole stream instead of piped in real time, and without
 * sound or the burnt-in clock, on still colour bars (a TS of video alone is what the caption
 * reader needs, and still pictures keep it small).
 */
function makeCc608(): string {
  const f = CC608_FIXTURE;
  const out = join(dir, f.name);
  const h264 = execFileSync(
    FFMPEG,
    [
      ...['-v', 'error', '-f', 'lavfi', '-i', `smptebars=size=${f.size}:rate=${f.fps}`, '-t', String(f.seconds)],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-b:v', `${f.bitrateKbps}k`],
      // A keyframe every half second, like the synthetic source.
      ...['-g', '15', '-pix_fmt', 'yuv420p', '-threads', '1', '-flags', '+bitexact', '-f', 'h264', 'pipe:1'],
    ],
    { maxBuffer: 64 << 20 },
  );
  const pairAt = captionSchedule({
    t0: f.t0,
    fps: f.fps,
    intervalMs: CC608_INTERVAL_MS,
    textAt: (ms) => demoCueText('en', ms),
  });
  const inserter = new AnnexBSeiInserter((picture) => a53CcSeiNal([pairAt(picture)]));
  const withCaptions = Buffer.concat([inserter.push(new Uint8Array(h264)), inserter.flush()]);
  execFileSync(
    FFMPEG,
    [
      ...MP4_BOX,
      ...['-fflags', '+genpts', '-framerate', f.fps, '-f', 'h264', '-i', 'pipe:0', '-c:v', 'copy'],
      ...['-output_ts_offset', String(f.t0), '-muxdelay', '0', '-muxpreload', '0'],
      ...['-fflags', '+bitexact', '-f', 'mpegts', out],
    ],
    { input: withCaptions, stdio: ['pipe', 'inherit', 'inherit'] },
  );
  return out;
}

const jobs: { name: string; make: () => string; command: string }[] = [
  ...FIXTURES.map((o) => ({
    name: fixtureName(o),
    make: () => makeEncode(o),
    command: `ffmpeg ${[...MP4_BOX, ...ffmpegArgs(o)].join(' ')} ${fixtureName(o)}`,
  })),
  {
    name: CC608_FIXTURE.name,
    make: makeCc608,
    command: 'ffmpeg (H.264 Annex B) → A/53 caption SEI per picture (Node) → ffmpeg -f mpegts, see makeCc608()',
  },
];

const args = process.argv.slice(2);
if (args.includes('--list')) {
  for (const job of jobs) console.log(`${job.name}\n  ${job.command}`);
} else {
  const words = args.filter((a) => !a.startsWith('--'));
  const chosen = words.length ? jobs.filter((j) => words.some((w) => j.name.includes(w))) : jobs;
  if (chosen.length === 0) throw new Error(`no testdata file matches ${words.join(', ')} (npm run testdata -- --list)`);
  mkdirSync(dir, { recursive: true });
  for (const job of chosen) {
    const out = job.make();
    console.log(`testdata/media/${job.name}: ${statSync(out).size} bytes`);
  }
}
