/** What the pipeline shows every whole TS packet of the feed (pipeline.ts `feedTap`). */
export interface FeedTap {
  push(packets: Uint8Array): void;
  endOfFeed(): void;
}

/**
 * Several feed readers (CC1 captions, SCTE-35) behind the pipeline's one tap, in order. One that
 * throws does not keep the packets from the others; the first error is thrown on afterwards, so
 * the pipeline still counts and logs it.
 */
export function feedTaps(...taps: (FeedTap | undefined)[]): FeedTap | undefined {
  const present = taps.filter((t): t is FeedTap => t !== undefined);
  if (present.length <= 1) return present[0];
  const each = (call: (tap: FeedTap) => void) => {
    let error: unknown;
    for (const tap of present) {
      try {
        call(tap);
      } catch (err) {
        error ??= err;
      }
    }
    if (error !== undefined) throw error;
  };
  return {
    push: (packets) => each((t) => t.push(packets)),
    endOfFeed: () => each((t) => t.endOfFeed()),
  };
}
