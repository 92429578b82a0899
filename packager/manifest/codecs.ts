/**
 * What an RFC 6381 codecs string says about decoding: the codec family (what a player must
 * support at all), and for video the profile and level (how much of it). Manifests group tracks
 * by family so a player that lacks one still finds the others; device profiles compare profile
 * and level against the highest a device decodes.
 */
export type CodecFamily = 'avc' | 'hevc' | 'av1' | 'aac' | 'ec-3' | 'ac-3' | 'other';

export function codecFamily(codecs: string): CodecFamily {
  const fourcc = codecs.split('.')[0].toLowerCase();
  switch (fourcc) {
    case 'avc1':
    case 'avc3':
      return 'avc';
    case 'hvc1':
    case 'hev1':
      return 'hevc';
    case 'av01':
      return 'av1';
    case 'mp4a':
      return /^mp4a\.40\.(2|5|29)$/i.test(codecs) ? 'aac' : 'other';
    case 'ec-3':
      return 'ec-3';
    case 'ac-3':
      return 'ac-3';
    default:
      return 'other';
  }
}

/**
 * A key that keeps tracks apart that no one decoder plays together: the family, except that an
 * unknown codec is its own group (its four-character code).
 */
export function codecGroupKey(codecs: string): string {
  const family = codecFamily(codecs);
  return family === 'other' ? codecs.split('.')[0].toLowerCase() : family;
}

/** Video profiles in increasing order of what a decoder must do (each includes the ones before it). */
export const VIDEO_PROFILES = {
  avc: ['baseline', 'main', 'high', 'high10', 'high422', 'high444'],
  hevc: ['main', 'main10', 'rext'],
  av1: ['main', 'high', 'professional'],
} as const;

export type VideoCodec = keyof typeof VIDEO_PROFILES;

export interface VideoCodecInfo {
  codec: VideoCodec;
  /** Index into VIDEO_PROFILES[codec]; undefined when the string does not say. */
  profile?: number;
  /** Level as a number: 3.1, 4, 5.1 … */
  level?: number;
}

const AVC_PROFILE_IDC: Record<number, number> = { 66: 0, 77: 1, 88: 1, 100: 2, 110: 3, 122: 4, 244: 5 };

/** Profile and level from an avc1/hvc1/av01 codecs string (ISO/IEC 14496-15 annex E, AV1 codec ISOBMFF binding). */
export function videoCodecInfo(codecs: string): VideoCodecInfo | undefined {
  const family = codecFamily(codecs);
  const parts = codecs.split('.');
  if (family === 'avc') {
    // avc1.PPCCLL: profile_idc, constraint flags, level_idc, in hex.
    const hex = parts[1] ?? '';
    if (!/^[0-9a-f]{6}$/i.test(hex)) return { codec: 'avc' };
    const idc = Number.parseInt(hex.slice(0, 2), 16);
    const levelIdc = Number.parseInt(hex.slice(4, 6), 16);
    return { codec: 'avc', profile: AVC_PROFILE_IDC[idc], level: levelIdc / 10 };
  }
  if (family === 'hevc') {
    // hvc1.[space]idc.compat.[L|H]level_idc.constraints…
    const idc = Number(/^[A-C]?(\d+)$/.exec(parts[1] ?? '')?.[1]);
    const level = /^[LH](\d+)$/.exec(parts[3] ?? '')?.[1];
    const profile = idc === 1 ? 0 : idc === 2 ? 1 : idc >= 3 ? 2 : undefined;
    return { codec: 'hevc', profile, level: level === undefined ? undefined : Number(level) / 30 };
  }
  if (family === 'av1') {
    // av01.P.LLT.DD: seq_profile, seq_level_idx and tier, bit depth. Level = 2 + idx/4 . idx%4.
    const profile = Number(parts[1]);
    const idx = Number(/^(\d\d)[MH]$/.exec(parts[2] ?? '')?.[1]);
    return {
      codec: 'av1',
      profile: Number.isInteger(profile) && profile <= 2 ? profile : undefined,
      level: Number.isInteger(idx) ? 2 + Math.floor(idx / 4) + (idx % 4) / 10 : undefined,
    };
  }
  return undefined;
}

/**
 * Samples per audio frame: a segment starts at the first frame at or after K·D, so it can run
 * this much past D. AAC-LC 1024; HE-AAC 2048 at the output rate; AC-3 and E-AC-3 1536 (six
 * blocks of 256).
 */
export function audioFrameSamples(codecs: string): number {
  if (/^mp4a\.40\.(5|29)$/i.test(codecs)) return 2048;
  const family = codecFamily(codecs);
  if (family === 'ec-3' || family === 'ac-3') return 1536;
  return 1024;
}
