import { NULL_PAIR, popOnCaption, type CcPair } from './pop-on-encoder.ts';

export interface ScheduleOptions {
  /** UTC (s) of picture 0; the source starts on a whole second. */
  t0: number;
  /** Frame rate as "30" or "30000/1001". */
  fps: string;
  /** One caption every this many ms on the UTC grid, each shown until the next. */
  intervalMs: number;
  /** The text of the caption that starts at this UTC instant (ms). */
  textAt: (startMs: number) => string;
}

/**
 * Which 608 pair each picture carries so that the caption for UTC t appears on the first picture
 * at or after t: its load (RCL … text) runs in the pictures before, one pair per picture, and the
 * EOC lands on that picture. A caption whose load would begin before picture 0 is left out, so the
 * stream never holds a half-loaded caption. One pair per picture is 60 bytes/s at 30 fps, the
 * rate of analog line 21; a 20-character caption loads in about half a second.
 */
export function captionSchedule(opts: ScheduleOptions): (picture: number) => CcPair {
  const [num, den = 1] = opts.fps.split('/').map(Number);
  const t0Ms = opts.t0 * 1000;
  /** The first picture at or after UTC `ms`. */
  const pictureAt = (ms: number) => Math.ceil(((ms - t0Ms) * num) / (1000 * den));
  const cache = new Map<number, { pairs: CcPair[]; eocIndex: number }>();
  const caption = (startMs: number) => {
    let c = cache.get(startMs);
    if (!c) {
      c = popOnCaption(opts.textAt(startMs));
      cache.set(startMs, c);
      if (cache.size > 4) cache.delete(cache.keys().next().value!);
    }
    return c;
  };
  return (picture) => {
    const ms = t0Ms + (picture * 1000 * den) / num;
    const next = Math.ceil(ms / opts.intervalMs) * opts.intervalMs;
    // The caption being loaded (next boundary) or finishing its repeated EOC (the one just past).
    for (const startMs of [next, next - opts.intervalMs, next + opts.intervalMs]) {
      const { pairs, eocIndex } = caption(startMs);
      const first = pictureAt(startMs) - eocIndex;
      if (first < 0) continue;
      const i = picture - first;
      if (i >= 0 && i < pairs.length) return pairs[i];
    }
    return NULL_PAIR;
  };
}
