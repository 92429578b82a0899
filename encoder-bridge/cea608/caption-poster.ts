import { z } from 'zod';
import type { CaptionsPost } from '../../contract/captions.ts';
import type { DecodedCue } from './cc1-decoder.ts';

export interface CaptionPosterOptions {
  /** Base URL of the Worker (its /api/events/{event}/captions fans out to every region). */
  url: string;
  token: string;
  event: string;
  language: string;
  /** Give up on a cue this long after it was decoded: past that its segment is final (docs/captions.md). */
  budgetMs?: number;
  log: (message: string) => void;
}

export interface CaptionPostCounters {
  /** Cues accepted by the captions API (stored now or already stored). */
  posted: number;
  /** Of those, cues the origin had not stored yet (the other pipeline may have posted the rest). */
  added: number;
  /** Cues given up on: refused (4xx) or still failing at the end of their budget. */
  failed: number;
  lastError?: string;
}

/** The part of the captions API's answer the counters use. */
const PostAnswer = z.object({ added: z.number().int().min(0) });

/** Answers that will not change on retry: 4xx other than 408/429. */
const isFinal = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

/**
 * Posts decoded cues to the captions API (contract/captions.ts) one request at a time, in order,
 * batching whatever is waiting. Network errors and 5xx are retried with backoff within the
 * budget; a refusal (a language that is not declared, a cue that came too late) is counted and
 * logged, not retried. Both pipelines post the same cues: the origin stores identical cues once.
 */
export class CaptionPoster {
  readonly counters: CaptionPostCounters = { posted: 0, added: 0, failed: 0 };
  private readonly opts: CaptionPosterOptions;
  private readonly queue: { cue: DecodedCue; decodedAt: number }[] = [];
  private busy: Promise<void> | undefined;
  private lastLoggedError = 0;

  constructor(opts: CaptionPosterOptions) {
    this.opts = opts;
  }

  post(cue: DecodedCue): void {
    this.queue.push({ cue, decodedAt: Date.now() });
    this.busy ??= this.drain().finally(() => (this.busy = undefined));
  }

  /** Resolves when nothing is waiting (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.busy) await this.busy;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, 200);
      const deadline = batch[0].decodedAt + (this.opts.budgetMs ?? 8000);
      for (let attempt = 0; ; attempt++) {
        const result = await this.send(batch.map((b) => b.cue));
        if (result.ok) {
          this.counters.posted += batch.length;
          this.counters.added += result.added;
          break;
        }
        if (result.final || Date.now() + 500 * 2 ** attempt > deadline) {
          this.counters.failed += batch.length;
          this.counters.lastError = result.error;
          // One line per 10 s at most: a language nobody declared would otherwise log every 2 s.
          if (Date.now() - this.lastLoggedError > 10_000) {
            this.lastLoggedError = Date.now();
            this.opts.log(`CC1 captions: posting ${batch.length} cue(s) failed: ${result.error}`);
          }
          break;
        }
        await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
      }
    }
  }

  private async send(cues: DecodedCue[]): Promise<{ ok: true; added: number } | { ok: false; final: boolean; error: string }> {
    const body: CaptionsPost = {
      language: this.opts.language,
      cues: cues.map((c) => ({ start: new Date(c.startMs).toISOString(), end: new Date(c.endMs).toISOString(), text: c.text })),
    };
    try {
      const res = await fetch(`${this.opts.url.replace(/\/$/, '')}/api/events/${this.opts.event}/captions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.opts.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      });
      const text = await res.text();
      if (res.ok) {
        const answer = PostAnswer.safeParse(JSON.parse(text));
        return { ok: true, added: answer.success ? answer.data.added : 0 };
      }
      return { ok: false, final: isFinal(res.status), error: `${res.status} ${text.slice(0, 300)}` };
    } catch (err) {
      return { ok: false, final: false, error: (err as Error).message };
    }
  }
}
