/** Independent reading of our output with mp4box (GPAC's parser), so tests do not trust our own reader. */
import { createFile, MP4BoxBuffer } from 'mp4box';

export interface ParsedSegment {
  codec: string;
  timescale: number;
  baseMediaDecodeTime: number;
  sampleCount: number;
  /** Sum of sample durations (ticks). */
  duration: number;
  firstIsSync: boolean;
}

export function parseWithMp4box(init: Uint8Array, segment: Uint8Array): ParsedSegment {
  const all = new Uint8Array(init.byteLength + segment.byteLength);
  all.set(init);
  all.set(segment, init.byteLength);
  const file = createFile();
  let error: unknown;
  file.onError = (e: unknown) => (error = e);
  file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(all.buffer, 0));
  file.flush();
  if (error) throw new Error(`mp4box: ${String(error)}`);
  const moofs = file.boxes.filter((b: { type: string }) => b.type === 'moof') as any[];
  if (moofs.length !== 1) throw new Error(`expected one moof, found ${moofs.length}`);
  const traf = moofs[0].trafs[0];
  const trun = traf.truns[0];
  const track = file.getInfo().tracks[0];
  const durations: number[] = trun.sample_duration ?? [];
  const firstFlags: number = trun.sample_flags?.[0] ?? trun.first_sample_flags ?? 0;
  return {
    codec: track.codec,
    timescale: track.timescale,
    baseMediaDecodeTime: Number(traf.tfdt.baseMediaDecodeTime),
    sampleCount: trun.sample_count,
    duration: durations.reduce((a, b) => a + b, 0),
    firstIsSync: (firstFlags & 0x00010000) === 0,
  };
}
