import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Ladder } from '../contract/ladder.ts';
import { segmentTicks } from '../contract/epoch.ts';
import { concat } from '../packager/bmff/box-writer.ts';
import { readFragments } from '../packager/fragment-reader.ts';
import { readInitInfo, type InitInfo } from '../packager/init-info.ts';
import { BoxStream, joined } from './box-stream.ts';
import { EpochSegmenter } from './epoch-segmenter.ts';
import { partsPerSegment } from '../contract/part-grid.ts';
import { audioCodecSpec } from './audio-codecs.ts';
import type { MappedRendition } from './audio-mapping.ts';
import { buildFfmpegArgs, parseFirstFrame, VIDEO_PROBE, type OutputSpec } from './ffmpeg-args.ts';
import type { Publisher } from './publisher.ts';
import { mediaTicks, type TimingPlan } from './timing-plan.ts';

export interface EncoderRunOptions {
  ladder: Ladder;
  plan: TimingPlan;
  segmentDurationMs: number;
  publisher: Publisher;
  ffmpegPath: string;
  /** Video track timescale (frame-rate.ts); default 90000. */
  videoTimescale?: number;
  /** The feed's frame rate as manifests write it ("30", "30000/1001"; frame-rate.ts), for the video inits. */
  frameRate?: string;
  /** Audio renditions mapped to source streams (audio-mapping.ts); default: all from the first audio stream. */
  audio?: MappedRendition[];
  log: (message: string) => void;
  onExit: (code: number | null, signal: NodeJS.Signals | null) => void;
}

/** Per-track progress shown on the bridge's status endpoint. */
export interface TrackProgress {
  kind: 'video' | 'audio';
  codecs?: string;
  segments: number;
  lastK?: number;
  lastDefects: string[];
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Frame rate as the rational string manifests use ("30", "30000/1001"). */
export function frameRateOf(timescale: number, frameTicks: number): string {
  const g = gcd(timescale, frameTicks);
  return frameTicks / g === 1 ? String(timescale / g) : `${timescale / g}/${frameTicks / g}`;
}

/**
 * One ffmpeg process encoding the whole ladder from the contribution feed, its outputs regrouped
 * into epoch segments and published. A run never outlives its ffmpeg: the supervisor starts a new
 * run (with a new timing plan) after a crash, and numbering stays the same because it is UTC.
 */
export class EncoderRun {
  readonly tracks = new Map<string, TrackProgress>();
  readonly startedAt = Date.now();
  private readonly opts: EncoderRunOptions;
  private readonly child: ChildProcess;
  /** First-frame times from the probes, relative to the plan's base: video in 90 kHz ticks, audio in 48 kHz samples. */
  private readonly probes = new Map<string, number>();
  private readonly segmenters: { out: OutputSpec; timescale: number; segmenter: EpochSegmenter }[] = [];
  private stopping = false;

  constructor(opts: EncoderRunOptions) {
    this.opts = opts;
    const { args, outputs } = buildFfmpegArgs(opts.ladder, opts.plan, opts.segmentDurationMs, {
      videoTimescale: opts.videoTimescale,
      audio: opts.audio,
    });
    const stdio: ('pipe' | 'ignore')[] = ['pipe', 'ignore', 'pipe', ...outputs.map(() => 'pipe' as const)];
    this.child = spawn(opts.ffmpegPath, args, { stdio });
    this.child.on('error', (err) => opts.log(`ffmpeg failed to start: ${err.message}`));
    this.child.on('exit', (code, signal) => {
      for (const s of this.segmenters) s.segmenter.end();
      opts.onExit(code, signal);
    });
    this.stdin.on('error', () => {}); // EPIPE when ffmpeg dies; the exit handler reports it
    this.watchStderr(this.child.stderr!);
    for (const out of outputs) this.readOutput(out, this.child.stdio[out.fd] as Readable);
  }

  get stdin(): Writable {
    return this.child.stdin!;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Feed whole TS packets; false means wait for 'drain'. */
  write(packets: Uint8Array): boolean {
    if (this.stopping || this.stdin.destroyed) return true;
    return this.stdin.write(packets);
  }

  /** End of feed: let ffmpeg flush and exit. */
  endInput(): void {
    this.stopping = true;
    this.stdin.end();
  }

  kill(): void {
    this.stopping = true;
    this.child.kill('SIGKILL');
  }

  private watchStderr(stderr: Readable): void {
    let rest = '';
    stderr.setEncoding('utf8');
    stderr.on('data', (text: string) => {
      const lines = (rest + text).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) this.onStderrLine(line);
    });
  }

  private onStderrLine(line: string): void {
    const first = parseFirstFrame(line);
    if (first) {
      const plan = this.opts.plan;
      if (first.probe === VIDEO_PROBE && plan.firstFrameExact && first.pts !== plan.firstFrameT90) {
        // The keyframe schedule counts from the frame the plan read from the feed; another first
        // frame (the planned one did not decode) would misplace every keyframe. Publish nothing
        // from this run: the supervisor starts a new one.
        this.opts.log(
          `first video frame at t=${first.pts} (90 kHz), the plan expected ${plan.firstFrameT90}: stopping this run, keyframes would be misplaced`,
        );
        this.kill();
        return;
      }
      this.probes.set(first.probe, first.pts);
      for (const s of this.segmenters) this.applyAnchor(s);
      return;
    }
    if (
      /showinfo|color_range|^\s*(Stream|Input|Output|Metadata|Duration|encoder|handler_name|vendor_id|Side data|cpb:|\[libx264|Press| {2})/.test(
        line,
      )
    )
      return;
    // Joining a feed mid-GOP makes the decoder complain until the first keyframe; that is expected
    // and the lead-in before S covers it.
    if (
      /decode_slice_header|no frame!|non-existing PPS|reference picture missing|Missing reference picture|mmco/.test(
        line,
      )
    )
      return;
    if (/error|fail|invalid|warn|discontinuity|non monotonically/i.test(line)) this.opts.log(`ffmpeg: ${line.trim()}`);
  }

  private readOutput(out: OutputSpec, stream: Readable): void {
    const boxes = new BoxStream();
    const header: Uint8Array[] = [];
    let info: InitInfo | undefined;
    let initPublished = false;
    let moof: Uint8Array | undefined;
    let segmenter: EpochSegmenter | undefined;
    const progress: TrackProgress = { kind: out.kind, segments: 0, lastDefects: [] };
    this.tracks.set(out.trackId, progress);

    stream.on('data', (chunk: Buffer) => {
      for (const box of boxes.push(chunk)) {
        if (box.type === 'ftyp' || box.type === 'moov') {
          header.push(box.bytes);
          if (box.type === 'moov') {
            info = readInitInfo(concat(header));
            progress.codecs = info.codecs;
            segmenter = this.createSegmenter(out, info, progress);
          }
        } else if (box.type === 'moof') {
          moof = box.bytes;
        } else if (box.type === 'mdat' && moof && info && segmenter) {
          // moof and mdat as one view of the pipe's chunk when ffmpeg wrote them together (no copy).
          const samples = readFragments(joined(moof, box.bytes), info).flatMap((f) => f.samples);
          if (!initPublished && samples.length > 0) {
            initPublished = true;
            this.publishInit(out, concat(header), info, samples[0].duration);
          }
          segmenter.pushSamples(samples);
          moof = undefined;
        }
      }
    });
    stream.on('error', (err) => this.opts.log(`${out.trackId}: output pipe error ${err.message}`));
  }

  private createSegmenter(out: OutputSpec, info: InitInfo, progress: TrackProgress): EpochSegmenter {
    const segmenter = new EpochSegmenter({
      kind: out.kind,
      init: info,
      segmentDurationMs: this.opts.segmentDurationMs,
      firstSegment: this.opts.plan.firstSegment,
      onSegment: (seg) => {
        progress.segments++;
        progress.lastK = seg.k;
        progress.lastDefects = seg.defects;
        void this.opts.publisher.publishSegment(out.trackId, out.kind, seg.k, seg.bytes, seg.defects);
      },
      parts: this.partsOption(out),
    });
    const entry = { out, timescale: info.timescale, segmenter };
    this.segmenters.push(entry);
    this.applyAnchor(entry);
    return segmenter;
  }

  /** Chunked CMAF parts of this output, published as each is made (publisher.ts partDurationMs). */
  private partsOption(out: OutputSpec) {
    const P = this.opts.publisher.partDurationMs;
    if (!(P > 0)) return undefined;
    return {
      perSegment: partsPerSegment(this.opts.segmentDurationMs, P),
      onPart: (part: { k: number; n: number; bytes: Uint8Array }) =>
        void this.opts.publisher.publishPart(out.trackId, out.kind, part.k, part.n, part.bytes),
    };
  }

  /**
   * The true media time of an output's first sample, in its own timescale. Video: the probe's
   * 90 kHz time rescaled as ffmpeg's muxer rescales every frame (mediaTicks: to the nearest tick,
   * e.g. 60000 at 59.94), so sample k's time is its own frame's PTS rescaled. Audio: the first
   * packet starts the encoder's priming before the first input sample (audio-codecs.ts).
   */
  private applyAnchor({
    out,
    timescale,
    segmenter,
  }: {
    out: OutputSpec;
    timescale: number;
    segmenter: EpochSegmenter;
  }): void {
    // base is a segment boundary: K·D, exact in any timescale (and far below 2^53 ticks).
    const { baseMs } = this.opts.plan;
    const baseTicks = (baseMs / this.opts.segmentDurationMs) * segmentTicks(this.opts.segmentDurationMs, timescale);
    if (out.kind === 'video') {
      const t90k = this.probes.get(VIDEO_PROBE);
      if (t90k !== undefined) segmenter.anchor(baseTicks + mediaTicks(t90k, timescale));
      return;
    }
    const samples = this.probes.get(out.trackId);
    if (samples === undefined) return;
    if (timescale !== 48_000) throw new Error(`${out.trackId}: audio timescale ${timescale}, expected 48000`);
    const codec = this.opts.ladder.audio.find((a) => a.id === out.trackId)!.codec;
    segmenter.anchor(baseTicks + samples - audioCodecSpec(codec).primingSamples);
  }

  private publishInit(out: OutputSpec, bytes: Uint8Array, info: InitInfo, firstSampleTicks: number): void {
    const ladder = this.opts.ladder;
    const meta =
      out.kind === 'video'
        ? {
            bandwidth: ladder.video.find((r) => r.id === out.trackId)!.bitrateKbps * 1000,
            frameRate: this.opts.frameRate ?? frameRateOf(info.timescale, firstSampleTicks),
          }
        : (() => {
            const a = ladder.audio.find((r) => r.id === out.trackId)!;
            return {
              bandwidth: a.bitrateKbps * 1000,
              language: a.language,
              label: a.label,
              // The event's language order: the first language is the main one in every manifest.
              order: ladder.audio.indexOf(a),
              ...(a.roles ? { roles: a.roles } : {}),
            };
          })();
    void this.opts.publisher.publishInit(out.trackId, out.kind, bytes, meta);
  }
}
