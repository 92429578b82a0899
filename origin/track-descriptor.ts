import type { TrackMeta } from '../contract/ingest.ts';
import type { TrackDescriptor } from '../contract/track.ts';
import type { InitInfo } from '../packager/init-info.ts';

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
  return d;
}
