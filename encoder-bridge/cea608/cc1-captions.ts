import { unwrapPts } from '../../contract/epoch.ts';
import { Cc1Decoder, type DecodedCue } from './cc1-decoder.ts';
import { TsCcReader } from './ts-cc-reader.ts';

export interface Cc1Counters {
  /** Pictures whose video carried A/53 caption data. */
  picturesWithCc: number;
  /** Cues decoded from CC1. */
  extracted: number;
  /**
   * Cues on screen when the feed ended or its video stream changed: not posted, because their end
   * was not seen (a bridge whose feed went on posts them whole).
   */
  unfinished: number;
  /** The video PID was followed to another one (TsCcReader). */
  videoPidChanges: number;
  lastCue?: DecodedCue;
}

/**
 * CEA-608 CC1 from the contribution feed, as cues on the UTC media timeline: the TS video's A/53
 * SEI (TsCcReader) → PTS unwrapped to UTC exactly as segments are (contract/epoch.ts) → decoder.
 *
 * Why our own decoder rather than a second ffmpeg (`movie=…[out+subcc]`, eia_608): the cue times
 * must be the feed's PTS to the millisecond, identical in both pipelines, so the origin stores a
 * cue once however many bridges post it; a bridge joining mid-caption must stay silent rather than
 * post a fragment; and it must not cost a second H.264 decode of the feed (ffmpeg only exposes
 * the captions as side data of decoded frames). Reading SEI needs no decoding at all.
 */
export class Cc1Captions {
  readonly counters: Cc1Counters = { picturesWithCc: 0, extracted: 0, unfinished: 0, videoPidChanges: 0 };
  private readonly reader: TsCcReader;
  private readonly decoder: Cc1Decoder;

  constructor(opts: { segmentDurationMs: number; onCue: (cue: DecodedCue) => void; now?: () => number }) {
    const now = opts.now ?? Date.now;
    this.decoder = new Cc1Decoder({
      splitMs: opts.segmentDurationMs,
      onCue: (cue) => {
        this.counters.extracted++;
        this.counters.lastCue = cue;
        opts.onCue(cue);
      },
    });
    this.reader = new TsCcReader({
      onPicture: ({ pts, pairs }) => {
        if (pairs.length > 0) this.counters.picturesWithCc++;
        this.decoder.picture(Math.round(unwrapPts(pts, now()).ticks / 90), pairs);
      },
      // Another video stream: what was on screen in the old one is not known to carry on.
      onStreamChange: () => {
        this.counters.videoPidChanges++;
        this.resetDecoder();
      },
    });
  }

  /** Whole, aligned TS packets of the feed. */
  push(packets: Uint8Array): void {
    this.reader.push(packets);
  }

  /** The feed connection ended: what comes next is a new stream, and the screen is unknown. */
  endOfFeed(): void {
    this.reader.flush();
    this.resetDecoder();
  }

  private resetDecoder(): void {
    if (this.decoder.reset()) this.counters.unfinished++;
  }
}
