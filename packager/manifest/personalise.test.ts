import { describe, expect, it } from 'vitest';
import { BUILT_IN_PROFILES, DeviceProfile } from '../../contract/device-profile.ts';
import { defaultEventConfig } from '../../contract/event-config.ts';
import { parseManifestFilter } from '../../contract/manifest-filter.ts';
import type { ManifestInput, TrackDescriptor, TrackDrm } from '../../contract/track.ts';
import { audioFrameSamples, codecFamily, videoCodecInfo } from './codecs.ts';
import { allowed, emptiedBy, personalise, playable } from './personalise.ts';

const { browser, 'tv-hevc': tv, 'legacy-avc': legacy } = BUILT_IN_PROFILES;

const drm: TrackDrm = {
  scheme: 'cenc',
  defaultKid: '00112233-4455-6677-8899-aabbccddeeff',
  pssh: { widevine: 'd2lkZXZpbmU=', playready: 'cGxheXJlYWR5', clearkey: 'Y2xlYXJrZXk=' },
  laUrl: 'https://edge.example/drm/clearkey/e',
};
const video = (id: string, codecs: string, height: number, bandwidth: number, extra: Partial<TrackDescriptor> = {}) =>
  ({
    id,
    kind: 'video',
    codecs,
    timescale: 90000,
    bandwidth,
    width: Math.round((height * 16) / 9),
    height,
    frameRate: '30',
    ...extra,
  }) satisfies TrackDescriptor;
const audio = (id: string, codecs: string, language: string, channels: number, extra: Partial<TrackDescriptor> = {}) =>
  ({
    id,
    kind: 'audio',
    codecs,
    timescale: 48000,
    bandwidth: 128_000,
    sampleRate: 48000,
    channels,
    language,
    ...extra,
  }) satisfies TrackDescriptor;
const text = (language: string): TrackDescriptor => ({
  id: `text-${language}`,
  kind: 'text',
  codecs: 'stpp.ttml.im1t',
  timescale: 1000,
  bandwidth: 1000,
  language,
});

const TRACKS: TrackDescriptor[] = [
  video('v1080', 'avc1.640028', 1080, 6_000_000),
  video('v720', 'avc1.4d401f', 720, 3_000_000),
  video('v360', 'avc1.42c01e', 360, 800_000),
  video('h2160', 'hvc1.2.4.L153.B0', 2160, 16_000_000),
  video('h1080', 'hvc1.1.6.L120.90', 1080, 4_000_000),
  video('a1080', 'av01.0.08M.08', 1080, 3_500_000),
  audio('aen', 'mp4a.40.2', 'en', 2),
  audio('aes', 'mp4a.40.2', 'es', 2),
  audio('aen51', 'ec-3', 'en', 6, { bandwidth: 384_000 }),
  audio('ahe', 'mp4a.40.5', 'en', 2, { bandwidth: 48_000 }),
  text('en'),
  text('es'),
];
const input = (tracks = TRACKS): ManifestInput => ({
  eventId: 'e',
  config: defaultEventConfig,
  tracks,
  nowMs: 0,
  firstSegment: 0,
  lastSegmentByTrack: {},
});
const ids = (i: ManifestInput) => i.tracks.map((t) => t.id);
const filter = (raw: string) => {
  const r = parseManifestFilter(raw);
  if (!r.ok) throw new Error(r.message);
  return r.filter;
};

describe('codecs', () => {
  it('reads the family, profile and level of AVC, HEVC and AV1 codecs strings', () => {
    expect(videoCodecInfo('avc1.640028')).toEqual({ codec: 'avc', profile: 2, level: 4 });
    expect(videoCodecInfo('avc1.42c01e')).toEqual({ codec: 'avc', profile: 0, level: 3 });
    expect(videoCodecInfo('hvc1.2.4.L153.B0')).toEqual({ codec: 'hevc', profile: 1, level: 5.1 });
    expect(videoCodecInfo('hev1.1.6.L93.90')).toEqual({ codec: 'hevc', profile: 0, level: 3.1 });
    expect(videoCodecInfo('av01.0.08M.08')).toEqual({ codec: 'av1', profile: 0, level: 4 });
    expect(videoCodecInfo('av01.1.13H.10')).toEqual({ codec: 'av1', profile: 1, level: 5.1 });
    expect(videoCodecInfo('mp4a.40.2')).toBeUndefined();
    expect(['mp4a.40.2', 'mp4a.40.5', 'ec-3', 'ac-3', 'opus'].map(codecFamily)).toEqual([
      'aac',
      'aac',
      'ec-3',
      'ac-3',
      'other',
    ]);
    expect(['mp4a.40.2', 'mp4a.40.29', 'ec-3'].map(audioFrameSamples)).toEqual([1024, 2048, 1536]);
  });
});

describe('device profiles', () => {
  it('every built-in profile is valid', () => {
    for (const p of Object.values(BUILT_IN_PROFILES)) expect(DeviceProfile.parse(p)).toEqual(p);
  });

  it('browser: AVC and AAC only, both caption formats', () => {
    expect(ids(personalise(input(), { profile: browser, format: 'dash' }))).toEqual([
      'v1080',
      'v720',
      'v360',
      'aen',
      'aes',
      'ahe',
      'text-en',
      'text-es',
    ]);
  });

  it('tv-hevc: AVC and HEVC Main10 up to level 5.1, E-AC-3 5.1, no AV1', () => {
    expect(ids(personalise(input(), { profile: tv, format: 'hls' }))).toEqual([
      'v1080',
      'v720',
      'v360',
      'h2160',
      'h1080',
      'aen',
      'aes',
      'aen51',
      'ahe',
      'text-en',
      'text-es',
    ]);
  });

  it('legacy-avc: AVC Main up to 4.0 and 1080p30 at 8 Mbit/s, stereo AAC', () => {
    expect(ids(personalise(input(), { profile: legacy, format: 'dash' }))).toEqual([
      'v720',
      'v360',
      'aen',
      'aes',
      'ahe',
      'text-en',
      'text-es',
    ]);
  });

  it('checks height, frame rate, bitrate, channels and HDR against the profile', () => {
    const t = video('v', 'avc1.4d401f', 720, 1_000_000);
    expect(playable(t, legacy, 'dash')).toBe(true);
    expect(playable({ ...t, height: 1440 }, legacy, 'dash')).toBe(false);
    expect(playable({ ...t, frameRate: '60000/1001' }, legacy, 'dash')).toBe(false);
    expect(playable({ ...t, frameRate: '30000/1001' }, legacy, 'dash')).toBe(true);
    expect(playable({ ...t, bandwidth: 9_000_000 }, legacy, 'dash')).toBe(false);
    expect(playable({ ...t, codecs: 'avc1.64001f' }, legacy, 'dash')).toBe(false); // High
    expect(playable({ ...t, codecs: 'avc1.4d4029' }, legacy, 'dash')).toBe(false); // level 4.1
    const dv = video('dv', 'dvh1.05.06', 1080, 5_000_000);
    expect(playable(dv, tv, 'dash')).toBe(false); // not an HEVC sample entry
    const a = audio('a', 'ec-3', 'en', 8);
    expect(playable(a, tv, 'hls')).toBe(true);
    expect(playable({ ...a, channels: 12 }, tv, 'hls')).toBe(false);
  });

  it('captions: IMSC1 in DASH and WebVTT in HLS, as the profile reads them', () => {
    const vttOnly: DeviceProfile = { ...browser, captions: ['webvtt'] };
    expect(playable(text('en'), vttOnly, 'hls')).toBe(true);
    expect(playable(text('en'), vttOnly, 'dash')).toBe(false);
  });

  it('signals DRM only for the profile system, and drops tracks the device cannot decrypt', () => {
    const enc = input([
      video('v720', 'avc1.4d401f', 720, 3_000_000, { drm }),
      audio('aen', 'mp4a.40.2', 'en', 2, { drm }),
    ]);
    const forBrowser = personalise(enc, { profile: browser, format: 'dash' });
    expect(forBrowser.tracks.map((t) => t.drm)).toEqual([
      { scheme: 'cenc', defaultKid: drm.defaultKid, pssh: { clearkey: drm.pssh.clearkey }, laUrl: drm.laUrl },
      { scheme: 'cenc', defaultKid: drm.defaultKid, pssh: { clearkey: drm.pssh.clearkey }, laUrl: drm.laUrl },
    ]);
    const forLegacy = personalise(enc, { profile: legacy, format: 'dash' });
    expect(forLegacy.tracks[0].drm).toEqual({
      scheme: 'cenc',
      defaultKid: drm.defaultKid,
      pssh: { widevine: drm.pssh.widevine },
    });
    // legacy-avc decrypts cenc only; FairPlay is never signalled here; 'none' plays clear content only.
    const cbcs = input([video('v720', 'avc1.4d401f', 720, 3_000_000, { drm: { ...drm, scheme: 'cbcs' } })]);
    expect(personalise(cbcs, { profile: legacy, format: 'hls' }).tracks).toEqual([]);
    for (const system of ['fairplay', 'none'] as const) {
      const p: DeviceProfile = { ...browser, drm: { system, schemes: ['cenc', 'cbcs'] } };
      expect(personalise(enc, { profile: p, format: 'hls' }).tracks).toEqual([]);
      expect(personalise(input(), { profile: p, format: 'hls' }).tracks.length).toBe(8);
    }
  });

  it('orders audio and caption tracks by the preferred languages, the rest in their order', () => {
    const p: DeviceProfile = { ...tv, languages: ['es', 'en'] };
    expect(ids(personalise(input(), { profile: p, format: 'hls' }))).toEqual([
      'v1080',
      'v720',
      'v360',
      'h2160',
      'h1080',
      'aes',
      'text-es',
      'aen',
      'aen51',
      'ahe',
      'text-en',
    ]);
    const fr = input([...TRACKS, audio('afr', 'mp4a.40.2', 'fr-CA', 2)]);
    expect(ids(personalise(fr, { profile: { ...browser, languages: ['fr'] }, format: 'dash' })).slice(3, 5)).toEqual([
      'afr',
      'aen',
    ]);
  });

  it('personalises the next event of a back-to-back schedule too', () => {
    const withNext: ManifestInput = { ...input(), next: { eventId: 'n', atK: 5, input: input() } };
    const out = personalise(withNext, { profile: legacy, format: 'dash' });
    expect(ids(out.next!.input!)).toEqual(ids(out));
  });
});

describe('manifest filter', () => {
  const kept = (raw: string, format: 'dash' | 'hls' = 'dash') =>
    ids(personalise(input(), { filter: filter(raw), format }));

  it.each([
    ['video_codec:h265', ['h2160', 'h1080']],
    ['video_codec:h264,av1', ['v1080', 'v720', 'v360', 'a1080']],
    ['video_height:360-720', ['v720', 'v360']],
    ['video_bitrate:0-3500000', ['v720', 'v360', 'a1080']],
    ['video_framerate:29.97-30', ['v1080', 'v720', 'v360', 'h2160', 'h1080', 'a1080']],
    ['video_framerate:25', []],
    ['video_dynamic_range:sdr', ['v1080', 'v720', 'v360', 'h2160', 'h1080', 'a1080']],
    ['video_dynamic_range:hdr10', []],
  ])('%s keeps only those videos (audio and captions stay)', (raw, videos) => {
    expect(kept(raw)).toEqual([...videos, 'aen', 'aes', 'aen51', 'ahe', 'text-en', 'text-es']);
  });

  it.each([
    ['audio_codec:aacl', ['aen', 'aes']],
    ['audio_codec:aach,ec-3', ['aen51', 'ahe']],
    ['audio_language:en', ['aen', 'aen51', 'ahe']],
    ['audio_language:dahlia', []],
    ['audio_channels:3-8', ['aen51']],
    ['audio_sample_rate:44100', []],
    ['audio_sample_rate:0-48000', ['aen', 'aes', 'aen51', 'ahe']],
    ['audio_bitrate:100000-200000', ['aen', 'aes']],
  ])('%s keeps only those audio tracks', (raw, audios) => {
    expect(kept(raw)).toEqual(['v1080', 'v720', 'v360', 'h2160', 'h1080', 'a1080', ...audios, 'text-en', 'text-es']);
  });

  it('subtitle_language keeps those caption tracks; trickplay keys change nothing (there are no trick-play tracks)', () => {
    expect(kept('subtitle_language:es').slice(-1)).toEqual(['text-es']);
    expect(kept('subtitle_language:es')).toHaveLength(11);
    expect(kept('trickplay_type:iframe;trickplay_height:180')).toHaveLength(12);
  });

  it('combines keys (all must allow a track) and combines with a profile (both must)', () => {
    expect(kept('video_codec:h264;video_height:720-2160;audio_language:es')).toEqual([
      'v1080',
      'v720',
      'aes',
      'text-en',
      'text-es',
    ]);
    const both = personalise(input(), {
      profile: legacy,
      filter: filter('video_height:360;audio_codec:aacl'),
      format: 'dash',
    });
    expect(ids(both)).toEqual(['v360', 'aen', 'aes', 'text-en', 'text-es']);
    expect(allowed(TRACKS[0], filter('video_height:1080'))).toBe(true);
  });

  it('says which stage left no audio and no video', () => {
    expect(emptiedBy(input(), { filter: filter('audio_language:xx'), format: 'dash' })).toBeUndefined();
    // Only captions left: a 200 with them (MediaPackage: "only subtitle streams are present").
    expect(
      emptiedBy(input(), { filter: filter('audio_language:xx;video_height:4320'), format: 'dash' }),
    ).toBeUndefined();
    expect(
      emptiedBy(input(), {
        filter: filter('audio_language:xx;video_height:4320;subtitle_language:xx'),
        format: 'dash',
      }),
    ).toBe('filter');
    const noDrm: DeviceProfile = { ...browser, drm: { system: 'none', schemes: ['cenc'] } };
    const enc = input([video('v', 'avc1.4d401f', 720, 1_000_000, { drm })]);
    expect(emptiedBy(enc, { profile: noDrm, format: 'hls' })).toBe('profile');
    // An event with nothing published yet is not "emptied".
    expect(emptiedBy(input([]), { filter: filter('video_height:1'), format: 'dash' })).toBeUndefined();
  });
});
