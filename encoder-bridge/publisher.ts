import { DEFECTS_HEADER, TRACK_META_HEADER, type TrackMeta } from '../contract/ingest.ts';

export interface PublisherOptions {
  /** Base URL of the ingest route, e.g. http://localhost:8787 */
  ingestUrl: string;
  token: string;
  event: string;
  pipeline: string;
  /** A segment retried longer than this is useless to a live player: give up and count it. */
  segmentBudgetMs: number;
  log: (message: string) => void;
}

export interface PublishCounters {
  published: number;
  retried: number;
  failed: number;
  lastK: number | undefined;
}

/** Answers that will not change on retry: 4xx other than 408/429. */
function isFinal(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * PUTs init and media segments to the ingest route. Inits are retried until they land (nothing
 * of the track can be stored before them); a segment is retried with backoff only within its
 * time budget, because after that a live player has moved on.
 */
export class Publisher {
  readonly counters: PublishCounters = { published: 0, retried: 0, failed: 0, lastK: undefined };
  private readonly opts: PublisherOptions;
  /** Per track: the init PUT that segments must wait for. */
  private readonly inits = new Map<string, Promise<boolean>>();

  constructor(opts: PublisherOptions) {
    this.opts = opts;
  }

  private url(track: string, file: string): string {
    return `${this.opts.ingestUrl}/ingest/${this.opts.event}/${this.opts.pipeline}/${track}/${file}`;
  }

  publishInit(track: string, kind: 'video' | 'audio', bytes: Uint8Array, meta: TrackMeta): Promise<boolean> {
    const done = this.put(this.url(track, 'init.mp4'), bytes, kind, { [TRACK_META_HEADER]: JSON.stringify(meta) }, 30_000);
    this.inits.set(track, done);
    return done;
  }

  async publishSegment(track: string, kind: 'video' | 'audio', k: number, bytes: Uint8Array, defects: string[]): Promise<boolean> {
    const initOk = await (this.inits.get(track) ?? Promise.resolve(false));
    if (!initOk) {
      this.counters.failed++;
      this.opts.log(`segment ${track}/${k} dropped: its init was not accepted`);
      return false;
    }
    const headers: Record<string, string> = defects.length > 0 ? { [DEFECTS_HEADER]: defects.join(',') } : {};
    const ok = await this.put(this.url(track, `${k}.m4s`), bytes, kind, headers, this.opts.segmentBudgetMs);
    if (ok) {
      this.counters.published++;
      this.counters.lastK = Math.max(this.counters.lastK ?? k, k);
    } else {
      this.counters.failed++;
    }
    return ok;
  }

  private async put(url: string, body: Uint8Array, kind: 'video' | 'audio', extra: Record<string, string>, budgetMs: number): Promise<boolean> {
    const deadline = Date.now() + budgetMs;
    let delay = 100;
    for (let attempt = 1; ; attempt++) {
      let reason: string;
      try {
        const res = await fetch(url, {
          method: 'PUT',
          body: body as Uint8Array<ArrayBuffer>,
          headers: { authorization: `Bearer ${this.opts.token}`, 'content-type': `${kind}/mp4`, ...extra },
          signal: AbortSignal.timeout(Math.max(250, deadline - Date.now())),
        });
        const text = res.ok ? '' : await res.text();
        await res.body?.cancel().catch(() => {});
        if (res.ok) return true;
        reason = `${res.status} ${text.slice(0, 300)}`;
        if (isFinal(res.status)) {
          this.opts.log(`PUT ${url} rejected: ${reason}`);
          return false;
        }
      } catch (err) {
        reason = (err as Error).message;
      }
      if (Date.now() + delay >= deadline) {
        this.opts.log(`PUT ${url} gave up after ${attempt} attempts: ${reason}`);
        return false;
      }
      this.counters.retried++;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 1000);
    }
  }
}
