import type { EventConfig } from '../contract/event-config.ts';

const BUCKETS = 10;
const BUCKET_MS = 100;

/**
 * Admission control for segment requests in one origin object: a sliding one-second count of the
 * requests it admitted (ten 100 ms buckets). DVR requests may use only `dvrShareOfRequests` of the
 * `maxSegmentRequestsPerSecond` budget, live-edge requests all of it, so under load DVR viewers
 * get 503s first and the live edge keeps a reserved share. Only admitted requests are counted:
 * a flood of shed DVR requests must not crowd out the live edge.
 */
export class LoadGauge {
  private readonly counts = new Array<number>(BUCKETS).fill(0);
  private readonly slots = new Array<number>(BUCKETS).fill(-1);

  /** Admitted requests in the last second. */
  rate(nowMs: number): number {
    const slot = Math.floor(nowMs / BUCKET_MS);
    let sum = 0;
    for (let i = 0; i < BUCKETS; i++) if (this.slots[i] > slot - BUCKETS) sum += this.counts[i];
    return sum;
  }

  /** Count the request and say yes, or say no (shed) without counting it. */
  admit(nowMs: number, kind: 'live' | 'dvr', config: EventConfig): boolean {
    const limit =
      kind === 'dvr'
        ? config.maxSegmentRequestsPerSecond * config.dvrShareOfRequests
        : config.maxSegmentRequestsPerSecond;
    if (this.rate(nowMs) >= limit) return false;
    const slot = Math.floor(nowMs / BUCKET_MS);
    const i = slot % BUCKETS;
    if (this.slots[i] !== slot) {
      this.slots[i] = slot;
      this.counts[i] = 0;
    }
    this.counts[i]++;
    return true;
  }
}
