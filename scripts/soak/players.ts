/**
 * Simulated live players for the soak: plain HTTP clients that behave like a player at the live
 * edge, without decoding anything, so 50 of them fit beside the encoders on a small machine.
 *
 * - DASH: reloads the MPD every `pollMs` (D/2), picks the lowest video rung and the first audio
 *   track, starts `suggestedPresentationDelay` behind the live edge and requests segment K of each
 *   track when the MPD says it is available, at (K+1)·D (the origin holds a live-edge request until
 *   the segment is published), as dash.js does with a number-based template.
 * - HLS: reads the multivariant playlist once, then reloads the lowest variant's and the default
 *   audio rendition's media playlists every `pollMs` (with `_HLS_skip=YES` once the server offers
 *   delta updates) and fetches every newly listed segment, starting three from the end as hls.js
 *   does with `liveSyncDurationCount: 3`.
 *
 * A segment answered 404 is asked again every 500 ms until one D after it is due (players retry a
 * segment that is not there yet); any other failure, a 404 past that, an EXT-X-GAP or a segment
 * missing from the sequence counts as lost. Every failure is a player error.
 */
import { type MediaPlaylist, type Mpd, parseMediaPlaylist, parseMpd, parseMultivariant } from './manifests.ts';

export type LostCause = '404' | '410' | '5xx' | 'other-status' | 'timeout' | 'network' | 'bad-body' | 'gap';

export interface PlayerCounters {
  manifestsOk: number;
  manifestsFailed: number;
  initsOk: number;
  initsFailed: number;
  segmentsOk: number;
  segmentBytes: number;
  /** Segments a player never got (after retrying 404s), by cause; gaps included. */
  lost: Record<LostCause, number>;
  /** 404s asked again (not errors unless the segment never came). */
  retried: number;
  /** Arrived after the moment a player three segments behind the live edge would play them. */
  lateForPlayback: number;
  /** Where the edge says each answer came from (`x-cache`: hot, cache, coalesced, origin, …). */
  edgeSources: Record<string, number>;
}

const newCounters = (): PlayerCounters => ({
  manifestsOk: 0,
  manifestsFailed: 0,
  initsOk: 0,
  initsFailed: 0,
  segmentsOk: 0,
  segmentBytes: 0,
  lost: { '404': 0, '410': 0, '5xx': 0, 'other-status': 0, timeout: 0, network: 0, 'bad-body': 0, gap: 0 },
  retried: 0,
  lateForPlayback: 0,
  edgeSources: {},
});

export const lostTotal = (c: PlayerCounters) => Object.values(c.lost).reduce((a, b) => a + b, 0);
export const errorTotal = (c: PlayerCounters) => c.manifestsFailed + c.initsFailed + lostTotal(c);

/** What every player reports into: running totals, this interval's figures, and the first errors in words. */
export class PlayerStats {
  readonly total = newCounters();
  interval = newCounters();
  /** Segment fetch durations (request to last byte) in this interval, ms. */
  intervalFetchMs: number[] = [];
  readonly allFetchMs: number[] = [];
  /** The first errors, for the report (timestamp, player, what). */
  readonly firstErrors: string[] = [];
  errorEvents = 0;
  /** Players that saw at least one error. */
  readonly playersWithErrors = new Set<number>();
  /** Every K served at least once, per track: what the audience as a whole received. */
  readonly served = new Map<string, Set<number>>();

  /** Start a new interval; returns the one that ended. */
  rollInterval(): { counters: PlayerCounters; fetchMs: number[] } {
    const ended = { counters: this.interval, fetchMs: this.intervalFetchMs };
    this.interval = newCounters();
    this.intervalFetchMs = [];
    return ended;
  }

  count(update: (c: PlayerCounters) => void): void {
    update(this.total);
    update(this.interval);
  }

  error(player: number, what: string): void {
    this.errorEvents++;
    this.playersWithErrors.add(player);
    if (this.firstErrors.length < 30) this.firstErrors.push(`${new Date().toISOString()} player ${player}: ${what}`);
  }

  edgeSource(res: Response): void {
    const source = res.headers.get('x-cache') ?? 'none';
    this.count((c) => {
      c.edgeSources[source] = (c.edgeSources[source] ?? 0) + 1;
    });
  }

  servedSegment(track: string, k: number, bytes: number, fetchMs: number): void {
    this.count((c) => {
      c.segmentsOk++;
      c.segmentBytes += bytes;
    });
    this.intervalFetchMs.push(fetchMs);
    // One sample per 10 for the whole run's percentiles keeps an hour of 50 players small.
    if ((this.total.segmentsOk & 7) === 0) this.allFetchMs.push(fetchMs);
    let ks = this.served.get(track);
    if (!ks) this.served.set(track, (ks = new Set()));
    ks.add(k);
  }
}

export interface PlayerOptions {
  id: number;
  kind: 'dash' | 'hls';
  /** Worker base URL. */
  base: string;
  event: string;
  stats: PlayerStats;
  segmentDurationMs: number;
  /** The event's pipelineDelayMs: a segment is due at (K+1)·D + this. */
  pipelineDelayMs: number;
  pollMs: number;
  timeoutMs: number;
  /** Spread the players' request moments over the poll interval. */
  startDelayMs: number;
  hlsSkip: boolean;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, Math.max(0, ms));
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

/** The first box of a CMAF segment or header. */
const SEGMENT_BOXES = new Set(['styp', 'moof', 'sidx', 'emsg', 'prft', 'ftyp']);

export class SimulatedPlayer {
  private readonly o: PlayerOptions;
  private readonly stop = new AbortController();
  private readonly tasks: Promise<void>[] = [];
  private readonly D: number;
  /** Presentation delay: where playback sits behind the newest available segment. */
  private delayS = 0;

  constructor(opts: PlayerOptions) {
    this.o = opts;
    this.D = opts.segmentDurationMs / 1000;
  }

  start(): void {
    this.tasks.push(this.run());
  }

  async close(): Promise<void> {
    this.stop.abort();
    await Promise.allSettled(this.tasks);
  }

  private get running(): boolean {
    return !this.stop.signal.aborted;
  }

  /** A request gives up after the timeout, or at once when the soak ends. */
  private requestSignal(): AbortSignal {
    return AbortSignal.any([AbortSignal.timeout(this.o.timeoutMs), this.stop.signal]);
  }

  private async run(): Promise<void> {
    await sleep(this.o.startDelayMs, this.stop.signal);
    try {
      if (this.o.kind === 'dash') await this.runDash();
      else await this.runHls();
    } catch (err) {
      if (this.running) this.o.stats.error(this.o.id, `player stopped: ${(err as Error).message}`);
    }
  }

  // ---- DASH --------------------------------------------------------------------------------

  private async runDash(): Promise<void> {
    const mpdUrl = `${this.o.base}/live/${this.o.event}/index.mpd`;
    let mpd: Mpd | undefined;
    while (!mpd && this.running) {
      mpd = await this.manifest(mpdUrl, parseMpd);
      if (!mpd) await sleep(this.o.pollMs, this.stop.signal);
    }
    if (!mpd) return;
    const video = [...mpd.video].sort((a, b) => a.bandwidth - b.bandwidth)[0];
    const audio = mpd.audio[0];
    if (!video || !audio) throw new Error('MPD has no video or no audio representation');
    this.delayS = mpd.suggestedPresentationDelayS ?? 3 * this.D;
    const dir = mpdUrl.slice(0, mpdUrl.lastIndexOf('/') + 1);
    // Keep reloading the MPD as dash.js does for a dynamic MPD (every pollMs here).
    this.tasks.push(
      (async () => {
        while (this.running) {
          await sleep(this.o.pollMs, this.stop.signal);
          if (this.running) await this.manifest(mpdUrl, parseMpd);
        }
      })(),
    );
    // Never before the first segment the MPD says exists (dash.js clamps to timeShiftBufferDepth).
    const nowS = Date.now() / 1000;
    const firstK = Math.max(
      Math.floor((nowS - this.delayS) / this.D),
      Math.ceil((nowS - (mpd.timeShiftBufferDepthS ?? Number.POSITIVE_INFINITY)) / this.D),
    );
    await Promise.all(
      [video, audio].map(async (rep) => {
        await this.init(new URL(rep.initialization, dir).href);
        for (let k = firstK; this.running; k++) {
          // Available at the end of its interval (availabilityStartTime = epoch, no offset).
          await sleep((k + 1) * this.D * 1000 + jitter(150) - Date.now(), this.stop.signal);
          if (!this.running) return;
          await this.segment(rep.id, k, new URL(rep.media.replaceAll('$Number$', String(k)), dir).href);
        }
      }),
    );
  }

  // ---- HLS ---------------------------------------------------------------------------------

  private async runHls(): Promise<void> {
    const mvUrl = `${this.o.base}/live/${this.o.event}/index.m3u8`;
    let mv: ReturnType<typeof parseMultivariant> | undefined;
    while (!mv && this.running) {
      mv = await this.manifest(mvUrl, parseMultivariant);
      if (!mv) await sleep(this.o.pollMs, this.stop.signal);
    }
    if (!mv) return;
    const variant = [...mv.variants].sort((a, b) => a.bandwidth - b.bandwidth)[0];
    const audio = mv.audio[0];
    if (!variant || !audio) throw new Error('multivariant playlist has no variant or no audio rendition');
    this.delayS = 3 * this.D;
    await Promise.all([variant.uri, audio.uri].map((uri) => this.followMediaPlaylist(new URL(uri, mvUrl).href)));
  }

  private async followMediaPlaylist(url: string): Promise<void> {
    const track = url.split('/').at(-2) ?? url;
    let next: number | undefined;
    let canSkip = false;
    let fetching = Promise.resolve();
    while (this.running) {
      const started = Date.now();
      const skip: string = canSkip && this.o.hlsSkip ? `${url.includes('?') ? '&' : '?'}_HLS_skip=YES` : '';
      const text: string | undefined = await this.manifest(`${url}${skip}`, (t: string) => t);
      const playlist: MediaPlaylist | undefined = text === undefined ? undefined : this.parsePlaylist(text);
      if (playlist) {
        canSkip = playlist.canSkip;
        const listed = playlist.segments;
        if (next === undefined && listed.length > 0) {
          const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(text!)?.[1];
          if (map) await this.init(new URL(map, url).href);
          next = listed[Math.max(0, listed.length - 3)].k;
        }
        const newest = listed.at(-1)?.k;
        if (next !== undefined && newest !== undefined && newest >= next) {
          const byK = new Map(listed.map((s) => [s.k, s]));
          const firstListed = playlist.mediaSequence + playlist.skipped;
          const pattern = listed[0].uri;
          const work: { k: number; uri?: string; gap?: boolean }[] = [];
          for (let k = next; k <= newest; k++) {
            const s = byK.get(k);
            // Left out by a delta update (before the first listed one): still there, ask for it.
            if (!s && k < firstListed) work.push({ k, uri: pattern.replace(/\d+(\.\w+)(\?|$)/, `${k}$1$2`) });
            else work.push({ k, uri: s?.uri, gap: !s || s.gap });
          }
          next = newest + 1;
          // Segments of one track one after another, while the playlist keeps reloading.
          fetching = fetching.then(async () => {
            for (const w of work) {
              if (!this.running) return;
              if (w.gap || !w.uri) this.lost(track, w.k, 'gap', w.uri ? 'EXT-X-GAP' : 'missing from the playlist');
              else await this.segment(track, w.k, new URL(w.uri, url).href);
            }
          });
        }
      }
      await sleep(started + this.o.pollMs - Date.now(), this.stop.signal);
    }
    await fetching;
  }

  private parsePlaylist(text: string): MediaPlaylist | undefined {
    try {
      return parseMediaPlaylist(text);
    } catch (err) {
      this.o.stats.count((c) => c.manifestsFailed++);
      this.o.stats.error(this.o.id, `unreadable media playlist: ${(err as Error).message}`);
      return undefined;
    }
  }

  // ---- requests ----------------------------------------------------------------------------

  /** GET a manifest and parse it; undefined (counted, reported) when that fails. */
  private async manifest<T>(url: string, parse: (text: string) => T): Promise<T | undefined> {
    try {
      const res = await fetch(url, { signal: this.requestSignal() });
      const text = await res.text();
      this.o.stats.edgeSource(res);
      if (!res.ok) throw new Error(`${res.status} ${text.slice(0, 120)}`);
      const parsed = parse(text);
      this.o.stats.count((c) => c.manifestsOk++);
      return parsed;
    } catch (err) {
      if (!this.running) return undefined;
      this.o.stats.count((c) => c.manifestsFailed++);
      this.o.stats.error(this.o.id, `manifest ${path(url)}: ${describe(err)}`);
      return undefined;
    }
  }

  private async init(url: string): Promise<void> {
    try {
      const res = await fetch(url, { signal: this.requestSignal() });
      const body = new Uint8Array(await res.arrayBuffer());
      if (!res.ok || boxType(body) !== 'ftyp') throw new Error(`${res.status}, ${body.byteLength} bytes`);
      this.o.stats.count((c) => c.initsOk++);
    } catch (err) {
      if (!this.running) return;
      this.o.stats.count((c) => c.initsFailed++);
      this.o.stats.error(this.o.id, `init ${path(url)}: ${describe(err)}`);
    }
  }

  private async segment(track: string, k: number, url: string): Promise<void> {
    const D = this.o.segmentDurationMs;
    const retryUntil = (k + 1) * D + this.o.pipelineDelayMs + D;
    for (;;) {
      const started = Date.now();
      let status = 0;
      try {
        const res = await fetch(url, { signal: this.requestSignal() });
        status = res.status;
        const body = new Uint8Array(await res.arrayBuffer());
        this.o.stats.edgeSource(res);
        if (res.status === 200) {
          if (!SEGMENT_BOXES.has(boxType(body)))
            return this.lost(track, k, 'bad-body', `${body.byteLength} bytes, first box "${boxType(body)}"`);
          const now = Date.now();
          this.o.stats.servedSegment(track, k, body.byteLength, now - started);
          if (now > k * D + this.delayS * 1000) this.o.stats.count((c) => c.lateForPlayback++);
          return;
        }
        if (res.status === 404 && Date.now() < retryUntil && this.running) {
          this.o.stats.count((c) => c.retried++);
          await sleep(500, this.stop.signal);
          continue;
        }
      } catch (err) {
        if (!this.running) return;
        const timeout = (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError';
        return this.lost(track, k, timeout ? 'timeout' : 'network', describe(err));
      }
      if (!this.running) return;
      const cause: LostCause = status === 404 ? '404' : status === 410 ? '410' : status >= 500 ? '5xx' : 'other-status';
      return this.lost(track, k, cause, `answered ${status}`);
    }
  }

  private lost(track: string, k: number, cause: LostCause, detail: string): void {
    this.o.stats.count((c) => c.lost[cause]++);
    this.o.stats.error(this.o.id, `${this.o.kind} ${track}/${k} lost (${cause}): ${detail}`);
  }
}

const jitter = (ms: number) => Math.random() * ms;
const path = (url: string) => new URL(url).pathname;
const describe = (err: unknown) =>
  `${(err as Error).name === 'TimeoutError' ? 'timed out' : (err as Error).message}${(err as Error & { cause?: Error }).cause ? ` (${(err as Error & { cause?: Error }).cause!.message})` : ''}`;

function boxType(bytes: Uint8Array): string {
  return bytes.byteLength >= 8 ? String.fromCharCode(...bytes.subarray(4, 8)) : '';
}
