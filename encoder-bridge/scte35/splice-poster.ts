import type { SplicePost } from '../../contract/splices.ts';
import { toBase64 } from '../../contract/scte35-section.ts';
import { isFinalStatus } from '../http-retry.ts';
import type { FeedSplice } from './ts-scte35-reader.ts';

export interface SplicePosterOptions {
  /** Base URL of the Worker (its POST /api/events/{event}/splices stores the break in every region). */
  url: string;
  /** The bridge's ingest token: the splice API takes it for the token's own event. */
  token: string;
  event: string;
  log: (message: string) => void;
  /** First retry delay; doubled per attempt. */
  retryMs?: number;
}

export interface SplicePostCounters {
  /** Breaks the API accepted (stored now, or already stored by the other pipeline). */
  posted: number;
  /** Of those, breaks this bridge stored first. */
  added: number;
  /** Refused (4xx) or still failing when the break was over. */
  failed: number;
  lastError?: string;
}

/**
 * Posts the feed's breaks to the splice API, each once: a feed announces a break several times,
 * and only its first reading is sent. Network errors and 5xx are retried with backoff until the
 * break is over; a 4xx is final (logged). Both pipelines post the same break from the same feed:
 * the origin keeps it once (by id), so the other pipeline's post answers 200, not a second marker.
 */
export class SplicePoster {
  readonly counters: SplicePostCounters = { posted: 0, added: 0, failed: 0 };
  private readonly opts: SplicePosterOptions;
  private readonly seen = new Map<number, number>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(opts: SplicePosterOptions) {
    this.opts = opts;
  }

  post(splice: FeedSplice): void {
    if (this.seen.has(splice.id)) return;
    this.seen.set(splice.id, splice.outAt + splice.durationMs);
    // Ids of breaks long over are forgotten: a feed may reuse them.
    const now = Date.now();
    for (const [id, end] of this.seen) if (end < now - 3_600_000) this.seen.delete(id);
    const sending = this.send(splice).finally(() => this.inFlight.delete(sending));
    this.inFlight.add(sending);
  }

  /** Resolves when every post in flight has an answer (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private async send(splice: FeedSplice): Promise<void> {
    const body: SplicePost = {
      at: new Date(splice.outAt).toISOString(),
      durationSeconds: splice.durationMs / 1000,
      id: splice.id,
      scte35: toBase64(splice.section),
    };
    const url = `${this.opts.url}/api/events/${this.opts.event}/splices`;
    let delay = this.opts.retryMs ?? 500;
    for (;;) {
      let error: string;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.opts.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const text = await res.text();
        if (res.status === 200 || res.status === 201) {
          this.counters.posted++;
          if (res.status === 201) this.counters.added++;
          this.opts.log(
            `SCTE-35 break ${splice.id} at ${body.at} for ${body.durationSeconds} s: ${res.status === 201 ? 'stored' : 'already stored'}`,
          );
          return;
        }
        error = `${res.status} ${text.slice(0, 200)}`;
        if (isFinalStatus(res.status)) return this.fail(splice, error);
      } catch (err) {
        error = (err as Error).message;
      }
      if (Date.now() + delay > splice.outAt + splice.durationMs) return this.fail(splice, error);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 8000);
    }
  }

  private fail(splice: FeedSplice, error: string): void {
    this.counters.failed++;
    this.counters.lastError = error;
    this.opts.log(`SCTE-35 break ${splice.id} not stored: ${error}`);
  }
}
