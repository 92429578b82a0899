import { captionTrackId, type CaptionTrack } from '../contract/captions.ts';
import type { TrackMeta } from '../contract/ingest.ts';
import type { TrackDescriptor } from '../contract/track.ts';
import { fromHex, kidToUuid } from './drm/keys.ts';
import { psshFor } from './drm/pssh.ts';
import type { InitInfo } from './init-info.ts';
import { STPP_CODECS, STPP_TIMESCALE } from './captions/stpp.ts';

/**
 * The segment-template metadata of a track, produced by the packager when its init is ingested:
 * what the init says about the bitstream (codecs, timescale, resolution, sample rate, channels,
 * DRM) plus what the publisher declared (bandwidth, frame rate, language, label, roles). The
 * origin stores it with the track and builds every manifest from it alone; segment duration D and
 * the epoch anchor (startNumber 0 at 1970-01-01) are the event's, shared by every track by design.
 */
export function templateMetadata(id: string, info: InitInfo, meta: TrackMeta): TrackDescriptor {
  const d: TrackDescriptor = {
    id,
    kind: info.kind,
    codecs: info.codecs,
    timescale: info.timescale,
    bandwidth: meta.bandwidth,
  };
  if (info.width !== undefined) d.width = info.width;
  if (info.height !== undefined) d.height = info.height;
  if (info.sampleRate !== undefined) d.sampleRate = info.sampleRate;
  if (info.channels !== undefined) d.channels = info.channels;
  if (meta.frameRate !== undefined) d.frameRate = meta.frameRate;
  if (meta.language !== undefined) d.language = meta.language;
  if (meta.label !== undefined) d.label = meta.label;
  if (meta.roles !== undefined) d.roles = meta.roles;
  if (meta.order !== undefined) d.order = meta.order;
  if (info.protection) d.drm = describeDrm(info.protection);
  return d;
}

/** pssh boxes are deterministic in (scheme, KID), so they are rebuilt here exactly as protectInit wrote them. */
function describeDrm(p: NonNullable<InitInfo['protection']>): NonNullable<TrackDescriptor['drm']> {
  const kid = fromHex(p.defaultKid);
  const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
  const pssh = (system: 'widevine' | 'playready' | 'clearkey') =>
    b64(psshFor(system, { scheme: p.scheme, kids: [kid] }));
  return {
    scheme: p.scheme,
    defaultKid: kidToUuid(kid),
    pssh: { widevine: pssh('widevine'), playready: pssh('playready'), clearkey: pssh('clearkey') },
  };
}

/**
 * The manifest view of a declared caption language (contract/captions.ts). Its codecs are the
 * DASH (stpp) ones; HLS lists the same track as WebVTT and needs no codecs for it. The bandwidth
 * is a nominal few kbit/s: a 2 s IMSC1 document is well under a kilobyte.
 */
export function describeCaptionTrack(c: CaptionTrack): TrackDescriptor {
  return {
    id: captionTrackId(c.language),
    kind: 'text',
    codecs: STPP_CODECS,
    timescale: STPP_TIMESCALE,
    bandwidth: CAPTION_BANDWIDTH,
    language: c.language,
    label: c.label,
    default: c.default,
  };
}

const CAPTION_BANDWIDTH = 4000;
