/**
 * Exactly one contribution feed at a time. The pipeline is one MPEG-TS byte stream: bytes from a
 * second sender (a second HTTP push, an SRT caller while RTP flows, …) would interleave with the
 * first and corrupt both. Every input claims the feed before its bytes reach the pipeline; a claim
 * while another feed is active is refused and counted, so the first sender is never disturbed.
 *
 * One exception keeps a dead sender from locking the bridge forever: a holder that has sent nothing
 * for `takeoverAfterMs` (a half-open TCP connection, a hung relay) loses the feed to the next claim.
 */
export type ContributionInput = 'http' | 'rtp' | 'srt';

export interface FeedSink {
  feed(chunk: Uint8Array): boolean;
  endOfFeed(): void;
}

export interface FeedGateOptions {
  sink: FeedSink;
  /** A holder silent this long is replaced by the next claim (default 5 s, like the RTP idle end). */
  takeoverAfterMs?: number;
  now?: () => number;
  log?: (message: string) => void;
}

export interface FeedHolderStatus {
  input: ContributionInput;
  /** Who sends it: address:port of the HTTP client, RTP SSRC and paths, SRT listener URL. */
  peer: string;
  since: string;
  lastDataAgoMs: number;
}

export const DEFAULT_TAKEOVER_AFTER_MS = 5000;

export class FeedLease {
  readonly input: ContributionInput;
  readonly peer: string;
  readonly since: number;
  lastDataAt: number;
  private ended = false;
  private readonly gate: FeedGate;
  private readonly onRevoked: ((why: string) => void) | undefined;

  constructor(
    gate: FeedGate,
    input: ContributionInput,
    peer: string,
    onRevoked: ((why: string) => void) | undefined,
    now: number,
  ) {
    this.gate = gate;
    this.input = input;
    this.peer = peer;
    this.onRevoked = onRevoked;
    this.since = now;
    this.lastDataAt = now;
  }

  /** Still the active feed (not ended, not taken over). */
  get active(): boolean {
    return !this.ended;
  }

  /** Pass bytes to the pipeline; a lease that ended drops them. Returns false when the caller should wait for the pipeline. */
  feed(chunk: Uint8Array): boolean {
    if (this.ended) return true;
    this.touch();
    return this.gate.sink.feed(chunk);
  }

  /** The sender is alive but waiting (backpressure): not silent. */
  touch(): void {
    this.lastDataAt = this.gate.now();
  }

  /** The sender finished or went away: the pipeline flushes, the next claim starts a new run. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.gate.release(this);
  }

  /** @internal The gate takes the feed away (another sender after this one's silence). */
  revoke(why: string): void {
    if (this.ended) return;
    this.ended = true;
    this.onRevoked?.(why);
  }
}

export class FeedGate {
  readonly sink: FeedSink;
  readonly now: () => number;
  /** Claims refused because another feed was active, per input (RTP counts payloads, the others connections). */
  readonly refused: Record<ContributionInput, number> = { http: 0, rtp: 0, srt: 0 };
  /** Silent holders replaced by a new sender. */
  takeovers = 0;
  private readonly takeoverAfterMs: number;
  private readonly log: (message: string) => void;
  private holder: FeedLease | undefined;
  private loggedRefusalFor: FeedLease | undefined;

  constructor(opts: FeedGateOptions) {
    this.sink = opts.sink;
    this.now = opts.now ?? (() => performance.now());
    this.takeoverAfterMs = opts.takeoverAfterMs ?? DEFAULT_TAKEOVER_AFTER_MS;
    this.log = opts.log ?? (() => {});
  }

  /**
   * Claim the feed for a sender. Undefined (counted in `refused`) while another feed is active;
   * `onRevoked` is called if this lease is later taken over after its sender fell silent.
   */
  claim(input: ContributionInput, peer: string, onRevoked?: (why: string) => void): FeedLease | undefined {
    const now = this.now();
    const holder = this.holder;
    if (holder) {
      const silentMs = now - holder.lastDataAt;
      if (silentMs < this.takeoverAfterMs) {
        this.refused[input]++;
        if (this.loggedRefusalFor !== holder) {
          this.loggedRefusalFor = holder;
          this.log(
            `contribution: refused ${input} feed from ${peer}: the ${holder.input} feed from ${holder.peer} is active (further refusals counted in /status)`,
          );
        }
        return undefined;
      }
      this.takeovers++;
      this.holder = undefined;
      const why = `${input} feed from ${peer} took over after ${Math.round(silentMs)} ms of silence`;
      this.log(`contribution: ${holder.input} feed from ${holder.peer} dropped: ${why}`);
      holder.revoke(why);
      this.sink.endOfFeed();
    }
    const lease = new FeedLease(this, input, peer, onRevoked, now);
    this.holder = lease;
    return lease;
  }

  /** @internal */
  release(lease: FeedLease): void {
    if (this.holder !== lease) return;
    this.holder = undefined;
    this.sink.endOfFeed();
  }

  status(): { active: FeedHolderStatus | null; refused: Record<ContributionInput, number>; takeovers: number } {
    const h = this.holder;
    const now = this.now();
    return {
      active: h
        ? {
            input: h.input,
            peer: h.peer,
            since: new Date(Date.now() - (now - h.since)).toISOString(),
            lastDataAgoMs: Math.round(now - h.lastDataAt),
          }
        : null,
      refused: { ...this.refused },
      takeovers: this.takeovers,
    };
  }
}

/**
 * An input without connections of its own (RTP datagrams, SRT relay output): claims the feed with
 * its first bytes and keeps it until `end()`. While refused, every chunk is counted and dropped, and
 * each new chunk tries again, so the input takes over as soon as the other feed ends.
 */
export class StreamFeed {
  private lease: FeedLease | undefined;
  private readonly gate: FeedGate;
  private readonly input: ContributionInput;
  private readonly peer: () => string;

  constructor(gate: FeedGate, input: ContributionInput, peer: () => string) {
    this.gate = gate;
    this.input = input;
    this.peer = peer;
  }

  get active(): boolean {
    return this.lease?.active ?? false;
  }

  feed(chunk: Uint8Array): void {
    if (!this.lease?.active) {
      this.lease = this.gate.claim(this.input, this.peer());
      if (!this.lease) return;
    }
    this.lease.feed(chunk); // UDP and the SRT relay cannot be paused: the pipeline buffers
  }

  end(): void {
    this.lease?.end();
    this.lease = undefined;
  }
}
