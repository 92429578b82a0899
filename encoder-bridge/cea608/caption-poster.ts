import { z } from 'zod';
import type { CaptionsPost } from '../../contract/captions.ts';
import { expectedPublishMs } from '../../contract/epoch.ts';
import { isFinalStatus } from '../http-retry.ts';
import type { DecodedCue } from './cc1-decoder.ts';

export interface CaptionPosterOptions {
  /** Base URL of the Worker (its /api/events/{event}/captions fans out to every region). */
  url: string;
  token: string;
  event: string;
  language: string;
  /** The event's segment duration D. */
  segmentDurationMs: number;
  /** The event's pipelineDelayMs (default 1500): with D, when a cue's segment is final. */
  pipelineDelayMs?: number;
  log: (message: string) => void;
}

export interface CaptionPostCounters {
  /** Cues accepted by the captions API (stored now or already stored). */
  posted: number;
  /** Of those, cues the origin had not stored yet (the other pipeline may have posted the rest). */
  added: number;
  /** Cues given up on: refused (4xx), too late, or still failing when their segment became final. */
  failed: number;
  /**
   * Of the failed, cues whose segment was already final: not sent (or not sent again) because
   * their deadline had passed, or refused by the origin as too late (clocks or pipelineDelayMs
   * that do not agree).
   */
  late: number;
  /** Cues still waiting when the bridge shut down (after a short drain). */
  dropped: number;
  lastError?: string;
}

/** The part of the captions API's answer the counters use. */
const PostAnswer = z.object({ added: z.number().int().min(0) });

/**
 * How long after its segment is due the origin still takes a cue (CAPTION_SETTLE_MS in
 * origin/event-origin.ts): after that the segment is cached for good and the cue is refused.
 */
export const CAPTION_SETTLE_MS = 10_000;

type Waiting = { cue: DecodedCue; deadline: number };
type Answer = { ok: true; added: number } | { ok: false; final: boolean; status?: number; error: string };

/**
 * Posts decoded cues to the captions API (contract/captions.ts) one request at a time, in order,
 * batching whatever is waiting. Each cue has a deadline: the instant its first segment becomes
 * final at the origin (due + CAPTION_SETTLE_MS), after which the origin refuses it. A cue past its
 * deadline is not sent (counted late); network errors and 5xx are retried with backoff while cues
 * of the batch are still before theirs. One refused cue makes the origin refuse the whole request,
 * so after a 400 the cues of that batch are posted one by one: the good ones land, only the
 * refused one is counted failed. Both pipelines post the same cues: the origin stores identical
 * cues once.
 */
export class CaptionPoster {
  readonly counters: CaptionPostCounters = { posted: 0, added: 0, failed: 0, late: 0, dropped: 0 };
  private readonly opts: CaptionPosterOptions;
  private readonly queue: Waiting[] = [];
  /** Cues taken from the queue and not yet counted. */
  private inFlight = 0;
  private busy: Promise<void> | undefined;
  private closed = false;
  /** Shut down: what is still in flight was counted dropped and is no longer counted. */
  private abandoned = false;
  private lastLoggedError = 0;

  constructor(opts: CaptionPosterOptions) {
    this.opts = opts;
  }

  /** When the origin stops taking this cue: its first segment is final. */
  deadline(cue: DecodedCue): number {
    const D = this.opts.segmentDurationMs;
    return expectedPublishMs(Math.floor(cue.startMs / D), D, this.opts.pipelineDelayMs ?? 1500) + CAPTION_SETTLE_MS;
  }

  post(cue: DecodedCue): void {
    if (this.closed) {
      this.counters.dropped++;
      return;
    }
    this.queue.push({ cue, deadline: this.deadline(cue) });
    this.busy ??= this.drain().finally(() => (this.busy = undefined));
  }

  /** Resolves when nothing is waiting (tests). */
  async idle(): Promise<void> {
    while (this.busy) await this.busy;
  }

  /**
   * Shutdown: take no more cues, give those waiting up to `timeoutMs` to land, then count what is
   * left as dropped. Returns how many were dropped.
   */
  async close(timeoutMs: number): Promise<number> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    const left = this.queue.splice(0).length + this.inFlight;
    this.inFlight = 0;
    this.abandoned = true;
    this.counters.dropped += left;
    return left;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.abandoned) {
      const batch = this.queue.splice(0, 200);
      this.inFlight = batch.length;
      await this.deliver(batch);
      this.inFlight = 0;
    }
  }

  /** Posts a batch until it lands, is refused, or is past its cues' deadlines. */
  private async deliver(batch: Waiting[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      batch = this.dropLate(batch, Date.now());
      if (batch.length === 0 || this.abandoned) return;
      const answer = await this.send(batch.map((b) => b.cue));
      if (answer.ok) return this.landed(batch.length, answer.added);
      if (answer.final) {
        // One bad cue (most often one whose segment just became final) refuses the whole request
        // with 400; other refusals (401, 404, 413 …) are about the request, not one of its cues.
        if (answer.status === 400 && batch.length > 1) {
          for (const one of batch) await this.deliver([one]);
          return;
        }
        return this.gaveUp(batch, /too late/.test(answer.error), answer.error);
      }
      const backoff = 500 * 2 ** attempt;
      const worthRetrying = this.dropLate(batch, Date.now() + backoff, answer.error);
      if (worthRetrying.length === 0) return;
      batch = worthRetrying;
      await new Promise((r) => setTimeout(r, backoff));
    }
  }

  /** The cues still before their deadline at `atMs`; the others are counted late. */
  private dropLate(batch: Waiting[], atMs: number, error?: string): Waiting[] {
    const late = batch.filter((b) => b.deadline < atMs);
    if (late.length === 0) return batch;
    const first = late[0].cue;
    this.gaveUp(
      late,
      true,
      error ??
        `${late.length} cue(s) too late: the segment of the cue at ${new Date(first.startMs).toISOString()} was final at ${new Date(late[0].deadline).toISOString()}`,
    );
    return batch.filter((b) => b.deadline >= atMs);
  }

  private landed(cues: number, added: number): void {
    if (this.abandoned) return;
    this.counters.posted += cues;
    this.counters.added += added;
    this.inFlight = Math.max(0, this.inFlight - cues);
  }

  private gaveUp(cues: Waiting[], late: boolean, error: string): void {
    if (this.abandoned) return;
    this.counters.failed += cues.length;
    if (late) this.counters.late += cues.length;
    this.counters.lastError = error;
    this.inFlight = Math.max(0, this.inFlight - cues.length);
    // One line per 10 s at most: a language nobody declared would otherwise log every 2 s.
    if (Date.now() - this.lastLoggedError > 10_000) {
      this.lastLoggedError = Date.now();
      this.opts.log(`CC1 captions: ${cues.length} cue(s) ${late ? 'given up (too late)' : 'failed'}: ${error}`);
    }
  }

  private async send(cues: DecodedCue[]): Promise<Answer> {
    const body: CaptionsPost = {
      language: this.opts.language,
      cues: cues.map((c) => ({
        start: new Date(c.startMs).toISOString(),
        end: new Date(c.endMs).toISOString(),
        text: c.text,
      })),
    };
    try {
      const res = await fetch(`${this.opts.url.replace(/\/$/, '')}/api/events/${this.opts.event}/captions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.opts.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      });
      const text = await res.text();
      if (res.ok) return { ok: true, added: addedOf(text) };
      return {
        ok: false,
        final: isFinalStatus(res.status),
        status: res.status,
        error: `${res.status} ${text.slice(0, 300)}`,
      };
    } catch (err) {
      return { ok: false, final: false, error: (err as Error).message };
    }
  }
}

/** `added` of a 2xx answer; a body that is not the expected JSON is still a success (0 added). */
function addedOf(text: string): number {
  try {
    const answer = PostAnswer.safeParse(JSON.parse(text));
    return answer.success ? answer.data.added : 0;
  } catch {
    return 0;
  }
}
