import { type CachedAnswer, HotCache } from './hot-cache.ts';

/**
 * The edge shield's cache (DESIGN §8): an in-isolate hot cache in front of the data centre's
 * cache (`caches.default`), and in front of both, coalescing: concurrent misses for one key share
 * one origin request (also a live-edge segment the origin is holding open). Freshness is exact to
 * the millisecond in both layers; a stale copy is served only within the stale-while-revalidate
 * time a rule allowed, while one background request refreshes it.
 */
export type AnswerSource = 'hot' | 'shared' | 'origin' | 'coalesced' | 'stale';

/**
 * Asks the origin for an answer. `background`: a refresh of a kept answer that was served stale,
 * which no player waits for (a media playlist's refresh may wait at the origin for its next segment).
 */
export type Fill = (how?: { background: boolean }) => Promise<CachedAnswer>;

export interface EdgeCacheCounters {
  hot: number;
  shared: number;
  stale: number;
  coalesced: number;
  /** Requests that went to an origin (one per miss, however many players waited for it). */
  origin: number;
  /** Requests that could not be cached (operator views, errors with no TTL). */
  uncached: number;
  /** Misses refused at the edge because too many origin requests were already in flight. */
  shed: number;
}

/** A miss the edge refused to send to the origin (edge/edge-load.ts decides). */
export class ShedAtEdge extends Error {
  constructor() {
    super('too many origin requests in flight at this edge');
  }
}

/** Cloudflare's Cache API is addressed by URL: our keys live under a host no request can name. */
const SHARED_PREFIX = 'https://edge-cache.invalid/';
const FRESH_HEADER = 'x-edge-fresh-until';
const STALE_HEADER = 'x-edge-stale-until';
const DOWNSTREAM_CC = 'x-edge-cache-control';
/**
 * How long the look that finds a kept answer stale waits for the refresh it starts: enough for an
 * origin that answers at once (5–10 ms here, bench/edge-miss.ts), far less than the half target
 * duration a player waits after an unchanged playlist.
 */
export const STALE_GRACE_MS = 50;

export class EdgeCache {
  readonly counters: EdgeCacheCounters = { hot: 0, shared: 0, stale: 0, coalesced: 0, origin: 0, uncached: 0, shed: 0 };
  private readonly inflight = new Map<string, Promise<CachedAnswer>>();
  /** When a miss was last shed (ms since the epoch): CMSD signals duress for a while after (edge/cmsd.ts). */
  lastShedAt = Number.NEGATIVE_INFINITY;

  readonly hot: HotCache;
  private readonly shared: () => Cache | undefined;

  constructor(hot: HotCache, shared: () => Cache | undefined) {
    this.hot = hot;
    this.shared = shared;
  }

  /**
   * The answer for `key`: from memory, from the data centre's cache, from a request already on
   * its way, or from `fill` (the origin). `waitUntil` keeps background work (a shared-cache write,
   * a stale refresh) alive after the response is sent. `admit(inFlight)` is asked before a miss
   * goes to the origin: false sheds it (ShedAtEdge), so kept answers are served however busy the
   * origin is, and only new work is refused.
   */
  async answer(
    key: string,
    fill: Fill,
    waitUntil: (p: Promise<unknown>) => void,
    admit: (inFlight: number) => boolean = () => true,
  ): Promise<{ answer: CachedAnswer; source: AnswerSource }> {
    const now = Date.now();
    const kept = this.hot.get(key, now);
    if (kept && now < kept.freshUntil) {
      this.counters.hot++;
      return { answer: kept, source: 'hot' };
    }
    if (kept) {
      // Stale but within stale-while-revalidate: serve it, refresh once in the background. The
      // look that starts the refresh gets the refreshed answer instead when the origin gives it
      // within STALE_GRACE_MS: a media playlist kept while its next segment was due is stale only
      // until that segment lands, and a sparse audience's first look after it landed must not get
      // the copy without it (the player would wait half a target duration to look again).
      if (!this.inflight.has(key)) {
        const refresh = this.fillOnce(key, () => fill({ background: true }));
        waitUntil(refresh.catch(() => undefined));
        let timer: ReturnType<typeof setTimeout> | undefined;
        const quick = await Promise.race([
          refresh.catch(() => undefined),
          new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), STALE_GRACE_MS))),
        ]);
        clearTimeout(timer);
        if (quick && quick.status === 200) return { answer: quick, source: 'origin' };
      }
      this.counters.stale++;
      return { answer: kept, source: 'stale' };
    }
    const pending = this.inflight.get(key);
    if (pending) {
      this.counters.coalesced++;
      return { answer: await awaitAnother(pending), source: 'coalesced' };
    }
    if (!admit(this.inflight.size)) {
      this.counters.shed++;
      this.lastShedAt = now;
      throw new ShedAtEdge();
    }
    const promise = this.lookupShared(key).then((found) => found ?? this.fromOrigin(key, fill, waitUntil));
    this.inflight.set(key, promise);
    try {
      const answer = await promise;
      return { answer, source: this.sourceOf(answer) };
    } finally {
      if (this.inflight.get(key) === promise) this.inflight.delete(key);
    }
  }

  /** Origin requests on their way now (what edge/edge-load.ts admits misses against). */
  get inFlight(): number {
    return this.inflight.size;
  }

  private sourceOf(answer: CachedAnswer): AnswerSource {
    return fromShared.has(answer) ? 'shared' : 'origin';
  }

  private fillOnce(key: string, fill: Fill): Promise<CachedAnswer> {
    const promise = this.fromOrigin(key, fill, () => undefined);
    this.inflight.set(key, promise);
    promise.finally(() => {
      if (this.inflight.get(key) === promise) this.inflight.delete(key);
    });
    return promise;
  }

  private async fromOrigin(key: string, fill: Fill, waitUntil: (p: Promise<unknown>) => void): Promise<CachedAnswer> {
    this.counters.origin++;
    const answer = await fill();
    const now = Date.now();
    if (answer.staleUntil <= now) {
      this.counters.uncached++;
      return answer;
    }
    this.hot.put(key, answer);
    // The data centre's cache counts whole seconds: only answers kept at least one go there.
    if (answer.staleUntil - now >= 1000) waitUntil(this.putShared(key, answer, now).catch(() => undefined));
    return answer;
  }

  private async lookupShared(key: string): Promise<CachedAnswer | undefined> {
    const cache = this.shared();
    if (!cache) return undefined;
    const res = await cache.match(SHARED_PREFIX + encodeURIComponent(key));
    if (!res) return undefined;
    const freshUntil = Number(res.headers.get(FRESH_HEADER));
    const staleUntil = Number(res.headers.get(STALE_HEADER));
    const now = Date.now();
    // Whole seconds there, milliseconds here: never serve past the exact freshness.
    if (!(now < freshUntil)) {
      await res.body?.cancel();
      return undefined;
    }
    const headers: [string, string][] = [];
    for (const [name, value] of res.headers) {
      if (name === FRESH_HEADER || name === STALE_HEADER || name === 'cache-control') continue;
      headers.push(name === DOWNSTREAM_CC ? ['cache-control', value] : [name, value]);
    }
    const body = res.status === 204 || res.status === 304 ? null : new Uint8Array(await res.arrayBuffer());
    const answer: CachedAnswer = { status: res.status, headers, body, freshUntil, staleUntil };
    fromShared.add(answer);
    this.counters.shared++;
    this.hot.put(key, answer);
    return answer;
  }

  private async putShared(key: string, answer: CachedAnswer, now: number): Promise<void> {
    const cache = this.shared();
    if (!cache) return;
    const headers = new Headers();
    for (const [name, value] of answer.headers) headers.append(name === 'cache-control' ? DOWNSTREAM_CC : name, value);
    headers.set('cache-control', `public, max-age=${Math.floor((answer.staleUntil - now) / 1000)}`);
    headers.set(FRESH_HEADER, String(answer.freshUntil));
    headers.set(STALE_HEADER, String(answer.staleUntil));
    await cache.put(
      SHARED_PREFIX + encodeURIComponent(key),
      new Response(answer.body as Uint8Array<ArrayBuffer> | null, { status: answer.status, headers }),
    );
  }
}

/**
 * The longest a request waits for a fill another request started: far past any hold of a
 * live-edge segment (due + 5·D at D ≤ 10 s) and the region deadlines.
 */
export const COALESCED_WAIT_MS = 120_000;

/**
 * Wait for a promise that another request created, keeping this request alive in its own right.
 * Awaiting it directly works alone but not under load in workerd: the waiter has no I/O of its
 * own pending, so the runtime cancels it as hung ("would never generate a response"), or its
 * continuation runs in the creating request's context and its Response then belongs to that
 * request ("Cannot perform I/O on behalf of a different request"). bench/edge.ts saw every
 * coalesced player request fail that way (a minimal Worker with this pattern: 15% of requests
 * at 64 connections). Racing the shared promise with a timer of this request's own keeps an
 * event pending here and brings the continuation back to this request (0 failures of 110,000).
 */
export function awaitAnother<T>(shared: Promise<T>, ms = COALESCED_WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the origin request this one waited for took over ${ms} ms`)), ms);
  });
  return Promise.race([shared, guard]).finally(() => clearTimeout(timer));
}

/** Answers read back from the data centre's cache (to report where an answer came from). */
const fromShared = new WeakSet<CachedAnswer>();

/** The edge cache of this isolate: 48 MB of hot answers, then `caches.default`. */
export const edgeCache = new EdgeCache(new HotCache(48 * 1024 * 1024), () =>
  typeof caches === 'undefined' ? undefined : (caches as unknown as { default: Cache }).default,
);
