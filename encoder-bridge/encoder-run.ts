import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Ladder } from '../contract/ladder.ts';
import { concat } from '../packager/bmff/box-writer.ts';
import { readFragments } from '../packager/fragment-reader.ts';
import { readInitInfo, type InitInfo } from '../packager/init-info.ts';
import { BoxStream } from './box-stream.ts';
import { EpochSegmenter } from './epoch-segmenter.ts';
import { buildFfmpegArgs, parseFirstFrame, type OutputSpec } from './ffmpeg-args.ts';
import type { Publisher } from './publisher.ts';
import { AAC_FRAME_SAMPLES, type TimingPlan } from './timing-plan.ts';

export interface EncoderRunOptions {
  ladder: Ladder;
  plan: TimingPlan;
  segmentDurationMs: number;
  publisher: Publisher;
  ffmpegPath: string;
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
  private readonly anchors: { video?: number; audio?: number } = {};
  private readonly segmenters: { kind: 'video' | 'audio'; segmenter: EpochSegmenter }[] = [];
  private stopping = false;

  constructor(opts: EncoderRunOptions) {
    this.opts = opts;
    const { args, outputs } = buildFfmpegArgs(opts.ladder, opts.plan, opts.segmentDurationMs);
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
      const { baseMs } = this.opts.plan;
      // video outputs use a 90 kHz timescale like the filter graph; AAC output packets start one
      // frame (the encoder's priming) before the first input sample.
      this.anchors[first.kind] = first.kind === 'video' ? baseMs * 90 + first.pts : baseMs * 48 + first.pts - AAC_FRAME_SAMPLES;
      for (const s of this.segmenters) if (s.kind === first.kind) s.segmenter.anchor(this.anchors[first.kind]!);
      return;
    }
    if (/showinfo|color_range|^\s*(Stream|Input|Output|Metadata|Duration|encoder|handler_name|vendor_id|Side data|cpb:|\[libx264|Press|  )/.test(line)) return;
    // Joining a feed mid-GOP makes the decoder complain until the first keyframe; that is expected
    // and the lead-in before S covers it.
    if (/decode_slice_header|no frame!|non-existing PPS|reference picture missing|Missing reference picture|mmco/.test(line)) return;
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
          const samples = readFragments(concat([moof, box.bytes]), info).flatMap((f) => f.samples);
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
    });
    this.segmenters.push({ kind: out.kind, segmenter });
    const anchor = this.anchors[out.kind];
    if (anchor !== undefined) segmenter.anchor(anchor);
    return segmenter;
  }

  private publishInit(out: OutputSpec, bytes: Uint8Array, info: InitInfo, firstSampleTicks: number): void {
    const ladder = this.opts.ladder;
    const meta =
      out.kind === 'video'
        ? { bandwidth: ladder.video.find((r) => r.id === out.trackId)!.bitrateKbps * 1000, frameRate: frameRateOf(info.timescale, firstSampleTicks) }
        : (() => {
            const a = ladder.audio.find((r) => r.id === out.trackId)!;
            return { bandwidth: a.bitrateKbps * 1000, language: a.language, label: a.label };
          })();
    void this.opts.publisher.publishInit(out.trackId, out.kind, bytes, meta);
  }
}
