/**
 * What the manifest writers' unit tests (dash.test.ts, hls.test.ts, ll-dash.test.ts) share: a live
 * event's manifest input on the epoch grid with the usual ladder, and MPEG's MPD schema check.
 * Not a test file: vitest collects `*.test.ts` only.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultEventConfig, type EventConfig } from '../../contract/event-config.ts';
import type { ManifestInput, TrackDescriptor } from '../../contract/track.ts';

export const D = 2000;
/** 2025-11-25T08:00:00Z is an exact multiple of D: K = 882 028 800. */
export const K0 = Date.UTC(2025, 10, 25, 8) / D;

// Frozen: every test file shares these objects (unit tests run with isolate: false).
const video = (id: string, codecs: string, bandwidth: number, width: number, height: number): TrackDescriptor =>
  Object.freeze({
    id,
    kind: 'video',
    codecs,
    timescale: 30000,
    bandwidth,
    width,
    height,
    frameRate: '30000/1001',
  });
export const V540 = video('v540', 'avc1.4d401f', 1_800_000, 960, 540);
export const V360 = video('v360', 'avc1.4d401e', 800_000, 640, 360);
export const V234 = video('v234', 'avc1.42c015', 300_000, 416, 234);
export const AUDIO_EN: TrackDescriptor = Object.freeze({
  id: 'aen',
  kind: 'audio',
  codecs: 'mp4a.40.2',
  timescale: 48000,
  bandwidth: 128_000,
  sampleRate: 48000,
  channels: 2,
  language: 'en',
  label: 'English',
});
/** Three 29.97 fps renditions and English stereo audio. */
export const LADDER: readonly TrackDescriptor[] = Object.freeze([V540, V360, V234, AUDIO_EN]);

/**
 * Event `demo` (D = 2 s, the default config with `config` on top) at `nowMs`, its segments listed
 * from K0 to `last` on every track; `overrides` replace whole fields.
 */
export function manifestInput(
  at: { nowMs: number; last: number; tracks?: TrackDescriptor[]; config?: Partial<EventConfig> },
  overrides: Partial<ManifestInput> = {},
): ManifestInput {
  const tracks = at.tracks ?? [...LADDER];
  return {
    eventId: 'demo',
    config: { ...defaultEventConfig, segmentDurationMs: D, ...at.config },
    tracks,
    nowMs: at.nowMs,
    firstSegment: K0,
    lastSegmentByTrack: Object.fromEntries(tracks.map((t) => [t.id, at.last])),
    ...overrides,
  };
}

const repoRoot = resolve(fileURLToPath(new URL('../../', import.meta.url)));
export const mpdValidator = resolve(repoRoot, process.env.DASH_MPD_VALIDATOR ?? '../shared/validators/validate-mpd');
export const haveMpdValidator = existsSync(mpdValidator);

/** Run MPEG's schema (DASH-MPD.xsd) through xmllint; throws with xmllint's complaints when the MPD is invalid. */
export function validateMpd(name: string, mpd: string): string {
  // A directory per call: test files share one module instance (unit tests run with isolate: false).
  const scratch = mkdtempSync(join(tmpdir(), 'mpd-test-'));
  const file = join(scratch, `${name}.mpd`);
  try {
    writeFileSync(file, mpd);
    return execFileSync(mpdValidator, [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`MPD ${name} does not validate:\n${e.stdout ?? ''}${e.stderr ?? ''}\n--- MPD ---\n${mpd}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
