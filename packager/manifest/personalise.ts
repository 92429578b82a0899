import type { DeviceProfile } from '../../contract/device-profile.ts';
import { inRanges, type ManifestFilter } from '../../contract/manifest-filter.ts';
import type { ManifestInput, TrackDescriptor, TrackDrm } from '../../contract/track.ts';
import { codecFamily, VIDEO_PROFILES, videoCodecInfo } from './codecs.ts';

/**
 * A manifest for one kind of device (docs/manifests.md, "Personalised manifests"): the same
 * ManifestInput with only the tracks the device can play and the filter allows, DRM signalled
 * only for the device's system, and audio and caption tracks of its preferred languages first.
 * Pure: the manifest writers then write it as any other input.
 */
export interface Personalisation {
  profile?: DeviceProfile;
  filter?: ManifestFilter;
  /** Captions are IMSC1 in DASH and WebVTT in HLS: the manifest's format decides which a profile must read. */
  format: 'dash' | 'hls';
}

export function personalise(input: ManifestInput, p: Personalisation): ManifestInput {
  if (!p.profile && !p.filter) return input;
  const tracks = orderByLanguage(
    input.tracks.filter((t) => (!p.profile || playable(t, p.profile, p.format)) && (!p.filter || allowed(t, p.filter))),
    p.profile?.languages ?? [],
  ).map((t) => (p.profile && t.drm ? { ...t, drm: onlySystem(t.drm, p.profile) } : t));
  const next = input.next?.input ? { ...input.next, input: personalise(input.next.input, p) } : input.next;
  return { ...input, tracks, next };
}

/** Which stage left a manifest with no audio and no video (there were some before): the edge answers each differently. */
export function emptiedBy(input: ManifestInput, p: Personalisation): 'profile' | 'filter' | undefined {
  const av = input.tracks.filter((t) => t.kind !== 'text');
  if (av.length === 0) return undefined;
  const playableAv = p.profile ? av.filter((t) => playable(t, p.profile!, p.format)) : av;
  if (playableAv.length === 0) return 'profile';
  if (p.filter && !playableAv.some((t) => allowed(t, p.filter!))) {
    // MediaPackage answers 200 when only subtitle streams are left; 400 when nothing is.
    const text = input.tracks.filter((t) => t.kind === 'text');
    const playableText = p.profile ? text.filter((t) => playable(t, p.profile!, p.format)) : text;
    return playableText.some((t) => allowed(t, p.filter!)) ? undefined : 'filter';
  }
  return undefined;
}

/** Can a device of this profile play the track? */
export function playable(t: TrackDescriptor, profile: DeviceProfile, format: 'dash' | 'hls'): boolean {
  if (t.drm && !decrypts(t.drm, profile)) return false;
  if (t.kind === 'text') return profile.captions.includes(format === 'dash' ? 'imsc1' : 'webvtt');
  if (t.kind === 'audio') {
    const family = codecFamily(t.codecs);
    const support = family === 'aac' || family === 'ec-3' ? profile.audio[family] : undefined;
    return support !== undefined && (t.channels ?? 2) <= support.maxChannels;
  }
  const info = videoCodecInfo(t.codecs);
  const support = info && profile.video[info.codec];
  if (!info || !support) return false;
  // A codecs string that does not say its profile or level is trusted to fit (every encoder here says both).
  const profiles: readonly string[] = VIDEO_PROFILES[info.codec];
  if (info.profile !== undefined && info.profile > profiles.indexOf(support.profile)) return false;
  if (info.level !== undefined && info.level > support.level + 1e-9) return false;
  if (t.height !== undefined && t.height > profile.maxHeight) return false;
  if (t.frameRate !== undefined && frameRate(t.frameRate) > profile.maxFrameRate + 0.001) return false;
  if (t.bandwidth > profile.maxBitrate) return false;
  return profile.hdr || dynamicRange(t) === 'sdr';
}

function decrypts(drm: TrackDrm, profile: DeviceProfile): boolean {
  const { system, schemes } = profile.drm;
  if (system === 'none' || system === 'fairplay') return false;
  return drm.pssh[system] !== undefined && schemes.includes(drm.scheme);
}

/** The device's system only; the ClearKey license URL only for ClearKey devices. */
function onlySystem(drm: TrackDrm, profile: DeviceProfile): TrackDrm {
  const system = profile.drm.system as 'widevine' | 'playready' | 'clearkey';
  const { laUrl, ...rest } = drm;
  return {
    ...rest,
    pssh: { [system]: drm.pssh[system] },
    ...(system === 'clearkey' && laUrl !== undefined ? { laUrl } : {}),
  };
}

/** Does the manifest filter let the track through? Keys about another kind of track do not apply to it. */
export function allowed(t: TrackDescriptor, f: ManifestFilter): boolean {
  const { lists, ranges } = f;
  const list = (values: string[] | undefined, value: string | undefined) =>
    values === undefined || (value !== undefined && values.includes(value));
  const range = (r: readonly (readonly [number, number])[] | undefined, value: number | undefined, epsilon = 0) =>
    r === undefined || (value !== undefined && inRanges(r, value, epsilon));
  if (t.kind === 'video') {
    return (
      list(lists.video_codec, VIDEO_CODE[codecFamily(t.codecs)]) &&
      range(ranges.video_height, t.height) &&
      range(ranges.video_bitrate, t.bandwidth) &&
      // MediaPackage compares frame rates within 0.0005 (29.97 matches 30000/1001).
      range(ranges.video_framerate, t.frameRate === undefined ? undefined : frameRate(t.frameRate), 0.0005) &&
      list(lists.video_dynamic_range, dynamicRange(t))
    );
  }
  if (t.kind === 'audio') {
    return (
      list(lists.audio_codec, audioCode(t.codecs)) &&
      languageMatches(lists.audio_language, t.language) &&
      range(ranges.audio_channels, t.channels ?? 2) &&
      range(ranges.audio_sample_rate, t.sampleRate) &&
      range(ranges.audio_bitrate, t.bandwidth)
    );
  }
  return languageMatches(lists.subtitle_language, t.language);
}

const VIDEO_CODE: Partial<Record<string, string>> = { avc: 'h264', hevc: 'h265', av1: 'av1' };

/** MediaPackage's audio code names: AACL (AAC-LC), AACH (HE-AAC v1 and v2), AC-3, EC-3. */
function audioCode(codecs: string): string | undefined {
  if (/^mp4a\.40\.2$/i.test(codecs)) return 'aacl';
  if (/^mp4a\.40\.(5|29)$/i.test(codecs)) return 'aach';
  const family = codecFamily(codecs);
  return family === 'ec-3' || family === 'ac-3' ? family : undefined;
}

/** `en` matches a track in `en` or `en-GB`; `en-gb` only `en-GB`. Not case-sensitive. */
function languageMatches(values: string[] | undefined, language: string | undefined): boolean {
  if (values === undefined) return true;
  const lang = language?.toLowerCase();
  return lang !== undefined && values.some((v) => lang === v || lang.startsWith(`${v}-`));
}

/**
 * SDR unless the codecs say otherwise: Dolby Vision sample entries (dvh1, dvhe, dav1, dva1) are
 * `dv`. The packager reads no colour information from inits yet, so HDR10 and HLG tracks are not
 * told apart from SDR ones (docs/manifests.md).
 */
export function dynamicRange(t: TrackDescriptor): 'sdr' | 'hdr10' | 'hlg' | 'dv' {
  return /^(dvh1|dvhe|dav1|dva1)\b/i.test(t.codecs) ? 'dv' : 'sdr';
}

/**
 * Audio and caption tracks of the preferred languages first, in the order of preference; the
 * rest keep their order. A language matches its subtags (`en` takes `en-GB`).
 */
function orderByLanguage(tracks: TrackDescriptor[], languages: readonly string[]): TrackDescriptor[] {
  if (languages.length === 0) return tracks;
  const prefs = languages.map((l) => l.toLowerCase());
  const rank = (t: TrackDescriptor) => {
    if (t.kind === 'video') return -1;
    if (t.language === undefined) return prefs.length;
    const lang = t.language.toLowerCase();
    const i = prefs.findIndex((p) => lang === p || lang.startsWith(`${p}-`));
    return i === -1 ? prefs.length : i;
  };
  // Stable: Array.prototype.sort keeps equal ranks in their order.
  return [...tracks].sort((a, b) => rank(a) - rank(b));
}

function frameRate(rate: string): number {
  const [n, d = '1'] = rate.split('/');
  return Number(n) / Number(d);
}
