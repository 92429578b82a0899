import type { TrackMeta } from '../contract/ingest.ts';
import type { TrackDescriptor } from '../contract/track.ts';
import { fromHex, kidToUuid } from '../packager/drm/keys.ts';
import { psshFor } from '../packager/drm/pssh.ts';
import type { InitInfo } from '../packager/init-info.ts';
import type { MeasuredBitrate } from './measured-bitrate.ts';

/** The manifest view of a track: what the init says about the bitstream plus what the publisher declared. */
export function describeTrack(id: string, info: InitInfo, meta: TrackMeta): TrackDescriptor {
  const d: TrackDescriptor = { id, kind: info.kind, codecs: info.codecs, timescale: info.timescale, bandwidth: meta.bandwidth };
  if (info.width !== undefined) d.width = info.width;
  if (info.height !== undefined) d.height = info.height;
  if (info.sampleRate !== undefined) d.sampleRate = info.sampleRate;
  if (info.channels !== undefined) d.channels = info.channels;
  if (meta.frameRate !== undefined) d.frameRate = meta.frameRate;
  if (meta.language !== undefined) d.language = meta.language;
  if (meta.label !== undefined) d.label = meta.label;
  if (info.protection) d.drm = describeDrm(info.protection);
  return d;
}

/** pssh boxes are deterministic in (scheme, KID), so they are rebuilt here exactly as protectInit wrote them. */
function describeDrm(p: NonNullable<InitInfo['protection']>): NonNullable<TrackDescriptor['drm']> {
  const kid = fromHex(p.defaultKid);
  const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
  const pssh = (system: 'widevine' | 'playready' | 'clearkey') => b64(psshFor(system, { scheme: p.scheme, kids: [kid] }));
  return { scheme: p.scheme, defaultKid: kidToUuid(kid), pssh: { widevine: pssh('widevine'), playready: pssh('playready'), clearkey: pssh('clearkey') } };
}

/** The descriptor as manifests should signal it now: measured bitrates when segments exist, the declared one before. */
export function withMeasuredBitrate(d: TrackDescriptor, m: MeasuredBitrate | undefined): TrackDescriptor {
  if (!m) return d;
  return { ...d, bandwidth: m.peak, averageBandwidth: m.average, declaredBandwidth: d.bandwidth };
}
