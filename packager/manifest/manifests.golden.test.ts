/**
 * Golden manifests (testdata/expected/manifests/<shape>/, laid out like the edge serves them:
 * index.mpd, index.m3u8, <track>/index.m3u8): the DASH and HLS writers on fixed inputs for a few
 * event shapes, at a fixed "now". Track descriptors come from the real testdata headers through
 * templateMetadata, as the origin makes them at ingest; encrypted shapes protect those headers
 * with the documented test keys. A change in any writer shows up as a line diff of these files;
 * UPDATE_GOLDEN=1 rewrites them (testdata/README.md).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CaptionTrack } from '../../contract/captions.ts';
import { EventConfig } from '../../contract/event-config.ts';
import type { TrackMeta } from '../../contract/ingest.ts';
import type { ManifestInput, TrackDescriptor } from '../../contract/track.ts';
import { expectGoldenText, GOLDEN_DIR } from '../../test/golden.ts';
import { type EncodeOptions, loadMedia } from '../../test/media.ts';
import { CBCS_IV, testdataKey } from '../../test/testdata-drm.ts';
import { protectInit } from '../drm/cenc-init.ts';
import { readInitInfo } from '../init-info.ts';
import { describeCaptionTrack, templateMetadata } from '../template-metadata.ts';
import { writeMpd } from './dash.ts';
import { writeMediaPlaylist, writeMultivariantPlaylist } from './hls.ts';

const D = 2000;
/** The events start at 2025-11-25T08:00:00Z (segment K0). */
const K0 = Date.UTC(2025, 10, 25, 8) / D;
/** "Now": 0.7 s into segment K0 + 10, so K0 … K0 + 8 are published (segment K is due at (K+1)·D + 1.5 s). */
const NOW = (K0 + 10) * D + 700;
const EDGE = 'https://edge.example';

const CAPTIONS: CaptionTrack[] = [
  { language: 'en', label: 'English', default: true },
  { language: 'es', label: 'Español', default: false },
];

/** Each track: a testdata encode and what its publisher declares (X-Track-Meta). */
const TRACKS: Record<string, { media: EncodeOptions; meta: TrackMeta }> = {
  v360: { media: { kind: 'video', size: '640x360' }, meta: { bandwidth: 800_000, frameRate: '30' } },
  v180: { media: { kind: 'video' }, meta: { bandwidth: 400_000, frameRate: '30' } },
  h180: { media: { kind: 'video', codec: 'hevc', bitrateKbps: 100 }, meta: { bandwidth: 150_000, frameRate: '30' } },
  v180p60: {
    media: { kind: 'video', fps: '60000/1001', bitrateKbps: 100 },
    meta: { bandwidth: 200_000, frameRate: '60000/1001' },
  },
  v180p30: {
    media: { kind: 'video', fps: '30000/1001', bitrateKbps: 100 },
    meta: { bandwidth: 150_000, frameRate: '30000/1001' },
  },
  aen: { media: { kind: 'audio' }, meta: { bandwidth: 96_000, language: 'en', label: 'English' } },
  aes: { media: { kind: 'audio' }, meta: { bandwidth: 96_000, language: 'es', label: 'Español' } },
  aad: {
    media: { kind: 'audio' },
    meta: { bandwidth: 64_000, language: 'en', label: 'English (audio description)', roles: ['description'] },
  },
  aen51: {
    media: { kind: 'audio', codec: 'eac3', channels: 6 },
    meta: { bandwidth: 96_000, language: 'en', label: 'English 5.1' },
  },
};

const descriptors = new Map<string, TrackDescriptor>();
const protectedDescriptors = new Map<string, TrackDescriptor>();
beforeAll(async () => {
  for (const [id, { media, meta }] of Object.entries(TRACKS)) {
    const { init, info } = await loadMedia(media);
    descriptors.set(id, templateMetadata(id, info, meta));
    for (const scheme of ['cenc', 'cbcs'] as const) {
      if (info.kind === 'text') continue;
      const key = testdataKey(info.kind);
      const protectedInit = protectInit(init, { scheme, key, constantIv: CBCS_IV }).init;
      protectedDescriptors.set(`${scheme}:${id}`, templateMetadata(id, readInitInfo(protectedInit), meta));
    }
  }
});

const track = (id: string): TrackDescriptor => descriptors.get(id)!;
/** The track's descriptor from its protected header, with the license URL the edge adds per request. */
const encrypted = (scheme: 'cenc' | 'cbcs', id: string, event: string): TrackDescriptor => {
  const d = protectedDescriptors.get(`${scheme}:${id}`)!;
  return { ...d, drm: { ...d.drm!, laUrl: `${EDGE}/drm/clearkey/${event}` } };
};
/** Measured bandwidths (origin/measured-bitrate.ts): peak and mean of the recent segments. */
const measured = (t: TrackDescriptor, bandwidth: number, averageBandwidth: number): TrackDescriptor => ({
  ...t,
  bandwidth,
  averageBandwidth,
});

function input(eventId: string, tracks: TrackDescriptor[], overrides: Partial<ManifestInput> = {}): ManifestInput {
  const captions = tracks.some((t) => t.kind === 'text') ? CAPTIONS : [];
  return {
    eventId,
    config: EventConfig.parse({ segmentDurationMs: D, captions }),
    tracks,
    nowMs: NOW,
    firstSegment: K0,
    lastSegmentByTrack: Object.fromEntries(tracks.map((t) => [t.id, K0 + 8])),
    ...overrides,
  };
}

/** Every event shape: its name (the directory) and its manifest input. */
const SHAPES: { name: string; what: string; input: () => ManifestInput; deltaUpdates?: boolean }[] = [
  {
    name: 'avc-aac',
    what: 'live, one AVC rung and one AAC-LC track; media playlists also as Playlist Delta Updates',
    input: () => input('avc-aac', [track('v180'), track('aen')]),
    deltaUpdates: true,
  },
  {
    name: 'multi-language-captions',
    what: 'live, two AVC rungs, English, Spanish and English audio description, WebVTT/IMSC1 captions in en and es, measured bandwidths',
    input: () =>
      input('multi-language-captions', [
        measured(track('v360'), 452_000, 401_000),
        measured(track('v180'), 431_000, 399_000),
        measured(track('aen'), 103_000, 97_000),
        measured(track('aes'), 103_000, 97_000),
        measured(track('aad'), 103_000, 97_000),
        ...CAPTIONS.map(describeCaptionTrack),
      ]),
  },
  {
    name: 'avc-hevc-eac3-ladder',
    what: 'live, AVC 360p and 180p, HEVC 180p, AAC-LC stereo and E-AC-3 5.1 in English',
    input: () =>
      input('avc-hevc-eac3-ladder', [track('v360'), track('v180'), track('h180'), track('aen'), track('aen51')]),
  },
  {
    name: 'fractional-frame-rates',
    what: 'live, AVC 59.94 fps (60 kHz) and 29.97 fps (90 kHz) rungs: one SegmentTemplate per Representation',
    input: () => input('fractional-frame-rates', [track('v180p60'), track('v180p30'), track('aen')]),
  },
  {
    name: 'cenc-clearkey',
    what: 'live, cenc (AES-CTR) with Widevine, PlayReady and ClearKey signalling',
    input: () =>
      input('cenc-clearkey', [encrypted('cenc', 'v180', 'cenc-clearkey'), encrypted('cenc', 'aen', 'cenc-clearkey')]),
  },
  {
    name: 'cbcs-clearkey',
    what: 'live, cbcs (AES-CBC 1:9 pattern) with Widevine, PlayReady and ClearKey signalling',
    input: () =>
      input('cbcs-clearkey', [encrypted('cbcs', 'v180', 'cbcs-clearkey'), encrypted('cbcs', 'aen', 'cbcs-clearkey')]),
  },
  {
    name: 'live-with-gap',
    what: 'live, video segment K0+4 gone on every pipeline (HLS EXT-X-GAP; DASH cannot say it)',
    input: () => input('live-with-gap', [track('v180'), track('aen')], { gapsByTrack: { v180: [K0 + 4] } }),
  },
  {
    name: 'ended',
    what: 'ended: static MPD over what is kept, ENDLIST; audio stopped one segment before video',
    input: () =>
      input('ended', [track('v180'), track('aen')], {
        ended: true,
        nowMs: NOW + 60_000,
        lastSegmentByTrack: { v180: K0 + 8, aen: K0 + 7 },
      }),
  },
  {
    name: 'back-to-back',
    what: 'live, this event ends at K0+5 and the scheduled next event "next-show" takes over at K0+6',
    input: () =>
      input('back-to-back', [track('v180'), track('aen')], {
        lastSegmentByTrack: { v180: K0 + 5, aen: K0 + 5 },
        next: {
          eventId: 'next-show',
          atK: K0 + 6,
          input: input('next-show', [track('v180'), track('aen')], { firstSegment: K0 + 5 }),
        },
      }),
  },
];

describe('golden manifests (testdata/expected/manifests/)', () => {
  for (const shape of SHAPES) {
    it(`${shape.name}: ${shape.what}`, () => {
      const i = shape.input();
      const dir = `manifests/${shape.name}`;
      expectGoldenText(`${dir}/index.mpd`, writeMpd(i, { utcTimingUrl: `${EDGE}/time` }));
      expectGoldenText(`${dir}/index.m3u8`, writeMultivariantPlaylist(i));
      for (const t of i.tracks) expectGoldenText(`${dir}/${t.id}/index.m3u8`, writeMediaPlaylist(i, t.id));
      // What a player gets for `index.m3u8?_HLS_skip=YES`.
      if (shape.deltaUpdates) {
        for (const t of i.tracks)
          expectGoldenText(`${dir}/${t.id}/index.delta.m3u8`, writeMediaPlaylist(i, t.id, { skip: true }));
      }
    });
  }

  // MPEG's schema, through xmllint (the validator dash.test.ts uses; skipped where it is absent).
  const validator = resolve(
    import.meta.dirname,
    '../..',
    process.env.DASH_MPD_VALIDATOR ?? '../shared/validators/validate-mpd',
  );
  it.skipIf(!existsSync(validator))('every golden MPD validates against DASH-MPD.xsd', async () => {
    const files = SHAPES.map((s) => join(GOLDEN_DIR, 'manifests', s.name, 'index.mpd'));
    const { stdout } = await promisify(execFile)(validator, files, { encoding: 'utf8' });
    expect(stdout.trim().split('\n')).toEqual(files.map((f) => `${f} validates`));
  });
});
