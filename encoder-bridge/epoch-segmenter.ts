import { segmentTicks } from '../contract/epoch.ts';
import type { TrackDefaults } from '../packager/fragment-reader.ts';
import { isSync, type Sample } from '../packager/sample.ts';
import { writeSegment } from '../packager/segment-writer.ts';
import { type EpochPart, PartCutter } from './part-cutter.ts';

export interface EpochSegment {
  k: number;
  bytes: Uint8Array;
  /** What the bridge already knows is wrong (sent to the origin as x-segment-defects). */
  defects: string[];
  sampleCount: number;
  /** tfdt written, ticks since the Unix epoch. */
  baseMediaDecodeTime: number;
}

export interface SegmenterOptions {
  kind: 'video' | 'audio';
  init: TrackDefaults & { timescale: number };
  segmentDurationMs: number;
  /** Segments before this one are partial (this run started inside them) and are dropped. */
  firstSegment: number;
  onSegment: (segment: EpochSegment) => void;
  /**
   * Chunked CMAF (docs/latency.md): also cut every segment into this many parts on the epoch grid
   * (contract/part-grid.ts) and hand each to onPart as soon as it is complete. The segment is
   * still written whole, as one fragment of the same samples. Unset: no parts.
   */
  parts?: { perSegment: number; onPart: (part: EpochPart) => void };
}

/**
 * Regroups the per-frame fragments ffmpeg writes into epoch segments: segment K holds the samples
 * whose media time lies in [K·D, (K+1)·D), so it starts with the first sample at or after K·D.
 * ffmpeg's tfdt starts at 0, so sample times are anchored on the first sample's true media time
 * (known from the showinfo probe); until the anchor arrives, samples wait. ffmpeg keeps each
 * video frame's own feed timestamp (90 kHz encoder time base, ffmpeg-args.ts), so after the
 * anchor every sample's time is its frame's PTS in the track timescale, and each duration is the
 * distance to the next sample: a pure function of the feed, identical in every pipeline and run.
 * A segment is written once the next segment's first sample has arrived (its last duration needs it).
 */
export class EpochSegmenter {
  private readonly opts: SegmenterOptions;
  private readonly ticksPerSegment: number;
  private offset: number | undefined;
  private pendingAnchor: number | undefined;
  private waiting: Sample[] = [];
  private currentK = -1;
  private current: Sample[] = [];
  private readonly cutter: PartCutter | undefined;

  constructor(opts: SegmenterOptions) {
    this.opts = opts;
    this.ticksPerSegment = segmentTicks(opts.segmentDurationMs, opts.init.timescale);
    if (opts.parts)
      this.cutter = new PartCutter({
        kind: opts.kind,
        trackId: opts.init.trackId,
        ticksPerSegment: this.ticksPerSegment,
        parts: opts.parts.perSegment,
        firstSegment: opts.firstSegment,
        onPart: opts.parts.onPart,
      });
  }

  /** The true presentation time (ticks since the epoch) of the first sample ffmpeg will output. */
  anchor(firstPresentationTicks: number): void {
    if (this.offset !== undefined) return;
    this.pendingAnchor = firstPresentationTicks;
    if (this.waiting.length > 0) this.resolveAnchor();
  }

  private resolveAnchor(): void {
    const first = this.waiting[0];
    this.offset = this.pendingAnchor! - (first.dts + first.compositionOffset);
    const held = this.waiting;
    this.waiting = [];
    for (const s of held) this.place(s);
  }

  pushSamples(samples: Sample[]): void {
    for (const s of samples) {
      if (this.offset === undefined) {
        this.waiting.push(s);
        if (this.pendingAnchor !== undefined) this.resolveAnchor();
      } else {
        this.place(s);
      }
    }
  }

  /** Drop the unfinished segment: a run that ends mid-segment never publishes a partial one. */
  end(): void {
    this.current = [];
    this.currentK = -1;
    this.cutter?.end();
  }

  private place(sample: Sample): void {
    const dts = sample.dts + this.offset!;
    // A sample lasts until the next one starts: durations follow the timestamps (the feed's own
    // PTS for video), never ffmpeg's idea of a frame's length, so they are the same in every run.
    const last = this.current[this.current.length - 1];
    if (last) last.duration = dts - last.dts;
    const placed = { ...sample, dts };
    // The same object: its duration, set when the next sample arrives, is the part's too. The
    // last part of K goes out before K itself: it is what a low-latency player waits for.
    this.cutter?.place(placed);
    const k = Math.floor(dts / this.ticksPerSegment);
    if (k !== this.currentK) {
      this.flush();
      this.currentK = k;
    }
    this.current.push(placed);
  }

  private flush(): void {
    const k = this.currentK;
    const samples = this.current;
    this.current = [];
    if (samples.length === 0 || k < this.opts.firstSegment) return;
    const defects: string[] = [];
    if (this.opts.kind === 'video' && !isSync(samples[0].flags)) defects.push('no-sync-start');
    const covered = samples.reduce((sum, s) => sum + s.duration, 0);
    const maxSample = Math.max(...samples.map((s) => s.duration));
    if (covered < this.ticksPerSegment - maxSample) defects.push('short');
    this.opts.onSegment({
      k,
      defects,
      sampleCount: samples.length,
      baseMediaDecodeTime: samples[0].dts,
      bytes: writeSegment({
        sequenceNumber: k % 2 ** 32,
        trackId: this.opts.init.trackId,
        baseMediaDecodeTime: samples[0].dts,
        samples,
      }),
    });
  }
}
