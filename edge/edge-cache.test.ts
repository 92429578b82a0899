import { describe, expect, it } from 'vitest';
import { awaitAnother, EdgeCache, STALE_GRACE_MS, ShedAtEdge } from './edge-cache.ts';
import { admitMiss, isDvrSegment } from './edge-load.ts';
import { type CachedAnswer, HotCache } from './hot-cache.ts';

const answer = (ttlMs: number, swrMs = 0, body = 'x'): CachedAnswer => {
  const now = Date.now();
  return {
    status: 200,
    headers: [['content-type', 'text/plain']],
    body: new TextEncoder().encode(body),
    freshUntil: now + ttlMs,
    staleUntil: now + ttlMs + swrMs,
  };
};
const cache = () => new EdgeCache(new HotCache(1024 * 1024), () => undefined);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const background: Promise<unknown>[] = [];
const waitUntil = (p: Promise<unknown>) => background.push(p);

describe('EdgeCache (in the isolate)', () => {
  it('concurrent misses share one fill; later requests are hot', async () => {
    const c = cache();
    let fills = 0;
    const fill = async () => {
      fills++;
      await sleep(20);
      return answer(10_000);
    };
    const all = await Promise.all(Array.from({ length: 50 }, () => c.answer('k', fill, waitUntil)));
    expect(fills).toBe(1);
    expect(all.filter((a) => a.source === 'origin')).toHaveLength(1);
    expect(all.filter((a) => a.source === 'coalesced')).toHaveLength(49);
    expect((await c.answer('k', fill, waitUntil)).source).toBe('hot');
    expect(c.counters).toMatchObject({ origin: 1, coalesced: 49, hot: 1 });
  });

  it('freshness is exact to the millisecond; an answer with no TTL is never kept', async () => {
    const c = cache();
    let fills = 0;
    const fill = async () => answer(++fills === 1 ? 40 : 0);
    await c.answer('k', fill, waitUntil);
    expect((await c.answer('k', fill, waitUntil)).source).toBe('hot');
    await sleep(60);
    expect((await c.answer('k', fill, waitUntil)).source).toBe('origin');
    expect((await c.answer('k', fill, waitUntil)).source).toBe('origin');
    expect(c.counters.uncached).toBe(2);
  });

  it('stale-while-revalidate: the stale copy is served once past its TTL while one request refreshes it', async () => {
    const c = cache();
    let fills = 0;
    // The refresh takes longer than the grace the first stale look waits.
    const fill = async () => {
      if (fills > 0) await sleep(STALE_GRACE_MS + 100);
      return answer(30, 10_000, `fill ${++fills}`);
    };
    await c.answer('k', fill, waitUntil);
    await sleep(50);
    const started = performance.now();
    const stale = await c.answer('k', fill, waitUntil);
    expect(stale.source).toBe('stale');
    expect(new TextDecoder().decode(stale.answer.body!)).toBe('fill 1');
    expect(performance.now() - started).toBeLessThan(STALE_GRACE_MS + 90);
    // Looks while the refresh is on its way get the stale copy without waiting.
    const meanwhile = performance.now();
    expect((await c.answer('k', fill, waitUntil)).source).toBe('stale');
    expect(performance.now() - meanwhile).toBeLessThan(STALE_GRACE_MS);
    await Promise.all(background);
    const fresh = await c.answer('k', fill, waitUntil);
    expect(fresh.source).toBe('hot');
    expect(new TextDecoder().decode(fresh.answer.body!)).toBe('fill 2');
    expect(fills).toBe(2);
  });

  it('the look that starts a refresh the origin answers at once gets the refreshed answer, not the stale copy', async () => {
    const c = cache();
    let fills = 0;
    const fill = async () => answer(30, 10_000, `fill ${++fills}`);
    await c.answer('k', fill, waitUntil);
    await sleep(50);
    const first = await c.answer('k', fill, waitUntil);
    expect(first.source).toBe('origin');
    expect(new TextDecoder().decode(first.answer.body!)).toBe('fill 2');
    expect((await c.answer('k', fill, waitUntil)).source).toBe('hot');
    // A refresh that fails is not served: the stale copy is.
    await sleep(50);
    const failing = async () => ({ ...answer(0), status: 503 });
    expect((await c.answer('k', failing, waitUntil)).source).toBe('stale');
  });

  it('sheds misses when told to, but never a kept answer', async () => {
    const c = cache();
    await c.answer('kept', async () => answer(10_000), waitUntil);
    const busy = () => false;
    expect((await c.answer('kept', async () => answer(1), waitUntil, busy)).source).toBe('hot');
    const before = Date.now();
    await expect(c.answer('new', async () => answer(1), waitUntil, busy)).rejects.toBeInstanceOf(ShedAtEdge);
    expect(c.counters.shed).toBe(1);
    // CMSD signals duress for a while after a shed miss (edge/cmsd.ts).
    expect(c.lastShedAt).toBeGreaterThanOrEqual(before);
  });

  it('says how many origin requests are in flight (what shedding and CMSD duress look at)', async () => {
    const c = cache();
    let release = () => {};
    const slow = () => new Promise<CachedAnswer>((r) => (release = () => r(answer(10_000))));
    const pending = Promise.all([c.answer('a', slow, waitUntil), c.answer('a', slow, waitUntil)]);
    await sleep(5);
    expect(c.inFlight).toBe(1);
    release();
    await pending;
    expect(c.inFlight).toBe(0);
  });

  it("a coalesced request waits on a timer of its own: it gets the fill's answer, or gives up after the limit", async () => {
    const shared = sleep(20).then(() => 'filled');
    expect(await awaitAnother(shared, 1000)).toBe('filled');
    const never = new Promise<string>(() => undefined);
    const started = Date.now();
    await expect(awaitAnother(never, 40)).rejects.toThrow('took over 40 ms');
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
  });

  it('the hot cache is bounded by bytes, oldest first', async () => {
    const c = new EdgeCache(new HotCache(40_000), () => undefined);
    for (let i = 0; i < 10; i++) await c.answer(`k${i}`, async () => answer(10_000, 0, 'x'.repeat(5000)), waitUntil);
    expect(c.hot.size.bytes).toBeLessThanOrEqual(40_000);
    expect(c.hot.get('k0', Date.now())).toBeUndefined();
    expect(c.hot.get('k9', Date.now())).toBeDefined();
  });
});

describe('edge load', () => {
  const limits = { maxOriginRequests: 10, dvrShare: 0.5 };
  it('DVR misses are shed at half the budget, live-edge misses at all of it', () => {
    expect(admitMiss(4, 'dvr', limits)).toBe(true);
    expect(admitMiss(5, 'dvr', limits)).toBe(false);
    expect(admitMiss(9, 'live', limits)).toBe(true);
    expect(admitMiss(10, 'live', limits)).toBe(false);
  });
  it('a segment more than three behind the newest due one is DVR', () => {
    const D = 2000;
    const now = 1_000_000 * D + 500; // segment 999,999 ended 500 ms ago: the newest due (no publish delay)
    expect(isDvrSegment(999_996, now, D, 0)).toBe(false);
    expect(isDvrSegment(999_995, now, D, 0)).toBe(true);
    expect(isDvrSegment(999_995, now, D, 1000)).toBe(false);
  });
});
