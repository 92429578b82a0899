import { isSync, type Sample } from '../packager/sample.ts';
import { writeSegment } from '../packager/segment-writer.ts';
import { partOf } from '../contract/part-grid.ts';

/** One CMAF part (chunk): a `styp`+`moof`+`mdat` holding the samples of part n of segment K. */
export interface EpochPart {
  k: number;
  n: number;
  bytes: Uint8Array;
  /** Starts with a sync sample (always true for audio): a player may start decoding here. */
  independent: boolean;
  sampleCount: number;
  baseMediaDecodeTime: number;
  /** Sum of the samples' durations, in ticks of the track timescale. */
  durationTicks: number;
}

export interface PartCutterOptions {
  kind: 'video' | 'audio';
  trackId: number;
  ticksPerSegment: number;
  /** Parts per segment (part-grid.ts). */
  parts: number;
  /** Parts of segments before this one are dropped, like the segments themselves. */
  firstSegment: number;
  onPart: (part: EpochPart) => void;
}

/**
 * Cuts the samples the epoch segmenter places into parts on the epoch grid (part-grid.ts). It sees
 * the segmenter's own sample objects, whose duration the segmenter sets when the next sample
 * arrives: so a part is written when the next part's first sample arrives, exactly as a segment
 * is. Bytes are a pure function of the samples (mfhd sequence number K·N + n), so A's part n of K
 * and B's are the same bytes when their samples are.
 */
export class PartCutter {
  private readonly opts: PartCutterOptions;
  private current: Sample[] = [];
  private currentK = -1;
  private currentN = -1;

  constructor(opts: PartCutterOptions) {
    this.opts = opts;
  }

  /** A sample with its epoch dts; the previous sample's duration must already be set. */
  place(sample: Sample): void {
    const { k, n } = partOf(sample.dts, this.opts.ticksPerSegment, this.opts.parts);
    if (k !== this.currentK || n !== this.currentN) {
      this.flush();
      this.currentK = k;
      this.currentN = n;
    }
    this.current.push(sample);
  }

  /** Drop the unfinished part (the run ended: its last duration is unknown). */
  end(): void {
    this.current = [];
    this.currentK = -1;
    this.currentN = -1;
  }

  private flush(): void {
    const samples = this.current;
    const { currentK: k, currentN: n } = this;
    this.current = [];
    if (samples.length === 0 || k < this.opts.firstSegment) return;
    this.opts.onPart({
      k,
      n,
      independent: this.opts.kind === 'audio' || isSync(samples[0].flags),
      sampleCount: samples.length,
      baseMediaDecodeTime: samples[0].dts,
      durationTicks: samples.reduce((sum, s) => sum + s.duration, 0),
      bytes: writeSegment({
        sequenceNumber: (k * this.opts.parts + n) % 2 ** 32,
        trackId: this.opts.trackId,
        baseMediaDecodeTime: samples[0].dts,
        samples,
      }),
    });
  }
}
