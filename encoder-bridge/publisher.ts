import { DEFECTS_HEADER, TRACK_META_HEADER, type TrackMeta } from '../contract/ingest.ts';
import { httpPut } from './http-put.ts';
import { isFinalStatus } from './http-retry.ts';

/** One origin region the packager publishes into: `?region=` on the ingest URL names it. */
export interface PublishTarget {
  /** Region id (e.g. "r2"); undefined publishes to the ingest Worker's own region without naming one. */
  region?: string;
  /** Base URL of that region's ingest route, e.g. http://localhost:8787 */
  url: string;
}

export interface PublisherOptions {
  /** Base URL of the ingest route, used when `targets` is not given. */
  ingestUrl: string;
  /**
   * Cross-publishing: every init and segment goes to each of these regions with its own PUT,
   * retries and budget, so trouble in one region never delays another. Default: `ingestUrl` only.
   */
  targets?: PublishTarget[];
  token: string;
  event: string;
  pipeline: string;
  /** A segment retried longer than this is useless to a live player: give up and count it. */
  segmentBudgetMs: number;
  /** How long an init is retried when first sent (default 30 s); a region that missed it gets it again with its next segment. */
  initBudgetMs?: number;
  log: (message: string) => void;
  /**
   * Chunked CMAF (docs/latency.md): the encoder also cuts each segment into parts of about this
   * long on the epoch grid (D/round(D/P): 500 → 4 parts of a 2 s segment, 333 → 6) and publishes
   * each as it is made; 0 (the default: bridge tests and tools that read every `.m4s` as a
   * segment) publishes whole segments only. The bridge's own config defaults to 500.
   */
  partDurationMs?: number;
  /** Which targets get the parts: the first (default) or all (BridgeConfig.partRegions). */
  partRegions?: 'first' | 'all';
  /**
   * Sees every init and every segment as it is published (the hub reporter: bitrates, lateness,
   * thumbnails; encoder-bridge/hub-reporter.ts). Called synchronously: it must not throw or block.
   */
  observer?: {
    init?(track: string, bytes: Uint8Array): void;
    segment?(track: string, kind: 'video' | 'audio', k: number, bytes: Uint8Array, ok: boolean): void;
  };
}

export interface PublishCounters {
  published: number;
  retried: number;
  failed: number;
  lastK: number | undefined;
}

/** Totals count a segment published when at least one region stored it; `regions` has each region's own counts. */
export interface PublisherCounters extends PublishCounters {
  regions: Record<string, PublishCounters>;
}

const newCounters = (): PublishCounters => ({ published: 0, retried: 0, failed: 0, lastK: undefined });
const regionName = (t: PublishTarget) => t.region ?? 'default';

/**
 * PUTs init and media segments to the ingest route of every target region. Inits are retried
 * until they land (nothing of the track can be stored before them); a segment is retried with
 * backoff only within its time budget, because after that a live player has moved on.
 */
export class Publisher {
  readonly counters: PublisherCounters = { ...newCounters(), regions: {} };
  private readonly opts: PublisherOptions;
  private readonly targets: PublishTarget[];
  /** Per track and region: the init PUT that segments to that region must wait for. */
  private readonly inits = new Map<string, Promise<boolean>>();
  /** Per track: the init itself, to send again to a region that was down when it was first sent. */
  private readonly initBodies = new Map<string, { kind: 'video' | 'audio'; bytes: Uint8Array; meta: TrackMeta }>();
  /** Init re-sends in flight, per track and region. */
  private readonly resending = new Map<string, Promise<boolean>>();

  constructor(opts: PublisherOptions) {
    this.opts = opts;
    this.targets = opts.targets?.length ? opts.targets : [{ url: opts.ingestUrl }];
    for (const t of this.targets) this.counters.regions[regionName(t)] = newCounters();
  }

  /** Part duration wanted (PublisherOptions.partDurationMs); 0: no parts. */
  get partDurationMs(): number {
    return this.opts.partDurationMs ?? 0;
  }

  /** Where this publisher sends, for status pages and logs. */
  describeTargets(): string {
    return this.targets.map((t) => (t.region ? `${t.region}=${t.url}` : t.url)).join(', ');
  }

  private url(target: PublishTarget, track: string, file: string): string {
    const query = target.region ? `?region=${encodeURIComponent(target.region)}` : '';
    return `${target.url}/ingest/${this.opts.event}/${this.opts.pipeline}/${track}/${file}${query}`;
  }

  /** Resolves true when every region stored the init. */
  async publishInit(track: string, kind: 'video' | 'audio', bytes: Uint8Array, meta: TrackMeta): Promise<boolean> {
    this.initBodies.set(track, { kind, bytes, meta });
    this.opts.observer?.init?.(track, bytes);
    const results = this.targets.map((t) => this.sendInit(t, track, this.opts.initBudgetMs ?? 30_000));
    return (await Promise.all(results)).every(Boolean);
  }

  private sendInit(target: PublishTarget, track: string, budgetMs: number): Promise<boolean> {
    const { kind, bytes, meta } = this.initBodies.get(track)!;
    const done = this.put(
      target,
      this.url(target, track, 'init.mp4'),
      bytes,
      kind,
      // Header values are bytes (Latin-1): labels such as "Español" travel as \u escapes, still JSON.
      {
        [TRACK_META_HEADER]: JSON.stringify(meta).replace(
          /[^\x20-\x7e]/g,
          (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
        ),
      },
      budgetMs,
    );
    this.inits.set(`${track}@${regionName(target)}`, done);
    return done;
  }

  /** Resolves true when at least one region stored the segment (each region is counted on its own). */
  async publishSegment(
    track: string,
    kind: 'video' | 'audio',
    k: number,
    bytes: Uint8Array,
    defects: string[],
  ): Promise<boolean> {
    const headers: Record<string, string> = defects.length > 0 ? { [DEFECTS_HEADER]: defects.join(',') } : {};
    const results = await Promise.all(this.targets.map((t) => this.publishTo(t, track, kind, k, bytes, headers)));
    const ok = results.some(Boolean);
    count(this.counters, ok, k);
    this.opts.observer?.segment?.(track, kind, k, bytes, ok);
    return ok;
  }

  private async publishTo(
    target: PublishTarget,
    track: string,
    kind: 'video' | 'audio',
    k: number,
    bytes: Uint8Array,
    headers: Record<string, string>,
  ): Promise<boolean> {
    const counters = this.counters.regions[regionName(target)];
    const startedAt = Date.now();
    let initOk = await (this.inits.get(`${track}@${regionName(target)}`) ?? Promise.resolve(false));
    // A region that was down when the init went out gets it again, inside this segment's budget,
    // so it rejoins as soon as it answers instead of missing the rest of the event.
    if (!initOk && this.initBodies.has(track)) initOk = await this.resendInit(target, track);
    if (!initOk) {
      this.opts.log(`segment ${track}/${k} not sent to ${regionName(target)}: its init was not accepted there`);
      count(counters, false, k);
      return false;
    }
    // Whatever an init re-send took comes out of the segment's own budget.
    const budget = Math.max(250, this.opts.segmentBudgetMs - (Date.now() - startedAt));
    const ok = await this.put(target, this.url(target, track, `${k}.m4s`), bytes, kind, headers, budget);
    count(counters, ok, k);
    return ok;
  }

  /** Parts PUT (chunked CMAF, docs/latency.md): stored in at least one region, or in none. */
  readonly partCounters = { published: 0, failed: 0 };

  /**
   * PUT part n of segment K (`{K}.{n}.m4s`) to the first target region (every region with
   * `partRegions: 'all'`), once it has the track's init: parts are kept in memory and served by
   * the home region's edge, the next region's when the home one fails (edge/region-choice.ts), which
   * needs them there too; four part PUTs per segment per track to every region more than double the
   * publish load, so that is the operator's choice.
   * A part is worth something only for about a part or two, so it is retried within `partBudgetMs`
   * (default 1 s) and never re-sends an init: the whole segment, published as before, is what
   * repairs a region. Failures are logged as a count (the first, then every 50th), not a line each.
   */
  async publishPart(
    track: string,
    kind: 'video' | 'audio',
    k: number,
    n: number,
    bytes: Uint8Array,
    partBudgetMs = 1000,
  ): Promise<boolean> {
    let why = '';
    const results = await Promise.all(
      this.targets.slice(0, this.opts.partRegions === 'all' ? undefined : 1).map(async (t) => {
        const initOk = await (this.inits.get(`${track}@${regionName(t)}`) ?? Promise.resolve(false));
        const url = this.url(t, track, `${k}.${n}.m4s`);
        return initOk && this.put(t, url, bytes, kind, {}, partBudgetMs, (m) => (why = m));
      }),
    );
    const ok = results.some(Boolean);
    if (ok) this.partCounters.published++;
    else this.partCounters.failed++;
    if (why && this.partCounters.failed % 50 <= 1)
      this.opts.log(`parts: ${this.partCounters.failed} not stored anywhere so far; latest trouble: ${why}`);
    return ok;
  }

  /** One re-send at a time per track and region; segments arriving meanwhile wait for it. */
  private resendInit(target: PublishTarget, track: string): Promise<boolean> {
    const key = `${track}@${regionName(target)}`;
    const pending = this.resending.get(key);
    if (pending) return pending;
    const done = this.sendInit(target, track, this.opts.segmentBudgetMs).finally(() => this.resending.delete(key));
    this.resending.set(key, done);
    return done;
  }

  private async put(
    target: PublishTarget,
    url: string,
    body: Uint8Array,
    kind: 'video' | 'audio',
    extra: Record<string, string>,
    budgetMs: number,
    /** Where a failure is told: parts report theirs in sums (publishPart), not a line each. */
    log: (message: string) => void = this.opts.log,
  ): Promise<boolean> {
    const deadline = Date.now() + budgetMs;
    let delay = 100;
    for (let attempt = 1; ; attempt++) {
      let reason: string;
      try {
        // node:http on a kept-alive connection, not fetch: a fraction of the CPU (http-put.ts).
        const res = await httpPut(
          url,
          body,
          { authorization: `Bearer ${this.opts.token}`, 'content-type': `${kind}/mp4`, ...extra },
          Math.max(250, deadline - Date.now()),
        );
        if (res.status >= 200 && res.status < 300) return true;
        reason = `${res.status} ${res.text.slice(0, 300)}`;
        if (isFinalStatus(res.status)) {
          log(`PUT ${url} rejected: ${reason}`);
          return false;
        }
      } catch (err) {
        reason = (err as Error).message;
      }
      if (Date.now() + delay >= deadline) {
        log(`PUT ${url} gave up after ${attempt} attempts: ${reason}`);
        return false;
      }
      this.counters.retried++;
      this.counters.regions[regionName(target)].retried++;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 1000);
    }
  }
}

function count(c: PublishCounters, ok: boolean, k: number): void {
  if (ok) {
    c.published++;
    c.lastK = Math.max(c.lastK ?? k, k);
  } else {
    c.failed++;
  }
}
