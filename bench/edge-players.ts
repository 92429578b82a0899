import { Agent, request } from 'node:http';

/**
 * Simulated players for the edge benchmark (bench/edge.ts): plain Node HTTP clients, one
 * keep-alive agent each, at the live edge of one video track. No decoding: they ask what a
 * player asks, when it asks it, and record what came back.
 *
 * - DASH (half): the MPD every D/2; segment K at (K+1)·D plus the player's phase, when the MPD's
 *   template makes it available (the origin holds it open until it is published), as dash.js does
 *   with a number-based template.
 * - HLS: the multivariant playlist once, then the track's media playlist every D/2, and every
 *   segment newly listed in it (starting three from the end, hls.js `liveSyncDurationCount: 3`).
 *
 * Both fetch the track's init once. Players start spread over the first D/2, so their polls are
 * spread over every half segment as a real audience's are.
 */
export interface PlayersOptions {
  baseUrl: string;
  event: string;
  track: string;
  players: number;
  seconds: number;
  segmentDurationMs: number;
  /** Share of HLS players (the rest are DASH). */
  hlsShare?: number;
}

type Kind = 'mpd' | 'multivariant' | 'playlist' | 'init' | 'segment';

export interface PlayersReport {
  /** Wall time from the first player's start until the last one stopped. */
  seconds: number;
  requests: Record<Kind, number>;
  /** Answers by x-cache value, per kind. */
  xcache: Record<Kind, Record<string, number>>;
  /** Latency of successful answers, ms. */
  latency: Record<Kind, number[]>;
  failures: number;
  /** Failures by kind and cause (`segment 500`, `mpd timeout after 15 s`, …). */
  failuresBy: Record<string, number>;
  firstFailures: string[];
  /** x-candidate-reason of the segments received (home, home-timeout, …). */
  reasons: Record<string, number>;
  /** Segment numbers players received. */
  segments: Set<number>;
  /** x-ttl-ms of the manifests (the edge's own TTL for them). */
  manifestTtlMs: number | undefined;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text?: string;
  bytes: number;
}

function get(agent: Agent, url: URL, keepText: boolean): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method: 'GET' }, (res) => {
      const parts: Buffer[] = [];
      let bytes = 0;
      // Error answers are kept too: their message says what went wrong.
      const keep = keepText || res.statusCode !== 200;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (keep) parts.push(chunk);
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: keep ? Buffer.concat(parts).toString('utf8') : undefined,
          bytes,
        }),
      );
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error('timeout after 15 s')));
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** The K of the newest segment URI in an HLS media playlist (`…/123.m4s`), or undefined. */
export function lastListedK(playlist: string): number | undefined {
  const m = /(\d+)\.m4s\s*$/.exec(playlist.trimEnd());
  return m ? Number(m[1]) : undefined;
}

export async function runPlayers(o: PlayersOptions): Promise<PlayersReport> {
  const D = o.segmentDurationMs;
  const kinds: Kind[] = ['mpd', 'multivariant', 'playlist', 'init', 'segment'];
  const report: PlayersReport = {
    seconds: 0,
    requests: Object.fromEntries(kinds.map((k) => [k, 0])) as Record<Kind, number>,
    xcache: Object.fromEntries(kinds.map((k) => [k, {}])) as Record<Kind, Record<string, number>>,
    latency: Object.fromEntries(kinds.map((k) => [k, []])) as unknown as Record<Kind, number[]>,
    failures: 0,
    failuresBy: {},
    firstFailures: [],
    reasons: {},
    segments: new Set(),
    manifestTtlMs: undefined,
  };
  const live = `${o.baseUrl}/live/${o.event}`;
  const started = Date.now();
  const endAt = started + D / 2 + o.seconds * 1000;
  const running = () => Date.now() < endAt;

  const ask = async (agent: Agent, kind: Kind, url: string, keepText = false): Promise<Answer | undefined> => {
    report.requests[kind]++;
    const t0 = performance.now();
    try {
      const answer = await get(agent, new URL(url), keepText);
      const cache = String(answer.headers['x-cache'] ?? 'none');
      report.xcache[kind][cache] = (report.xcache[kind][cache] ?? 0) + 1;
      if (answer.status !== 200) throw new Error(`${answer.status} ${answer.text ?? ''}`.trim());
      report.latency[kind].push(performance.now() - t0);
      if (kind === 'segment') {
        const reason = String(answer.headers['x-candidate-reason'] ?? 'none');
        report.reasons[reason] = (report.reasons[reason] ?? 0) + 1;
      }
      if ((kind === 'mpd' || kind === 'playlist') && report.manifestTtlMs === undefined)
        report.manifestTtlMs = Number(answer.headers['x-ttl-ms']);
      return answer;
    } catch (err) {
      report.failures++;
      const cause = `${kind} ${(err as Error).message.replace(/\{.*"code":"([A-Z_]+)".*$/s, '$1').slice(0, 60)}`;
      report.failuresBy[cause] = (report.failuresBy[cause] ?? 0) + 1;
      if (report.firstFailures.length < 5)
        report.firstFailures.push(`${kind} ${url.replace(o.baseUrl, '')}: ${(err as Error).message.slice(0, 200)}`);
      return undefined;
    }
  };

  /** Run `fn` every `period` ms at `phase` within the period until the end (a slow run skips slots). */
  const every = async (period: number, phase: number, fn: () => Promise<unknown>) => {
    while (running()) {
      const now = Date.now();
      const next = now - ((now - phase) % period) + period;
      await sleep(next - now);
      if (!running()) break;
      await fn();
    }
  };

  const dash = async (agent: Agent, phase: number) => {
    await ask(agent, 'mpd', `${live}/index.mpd`);
    await ask(agent, 'init', `${live}/${o.track}/init.mp4`);
    const segments = (async () => {
      let k = Math.floor(Date.now() / D) - 1;
      while (running()) {
        await sleep((k + 1) * D + phase - Date.now());
        if (!running()) break;
        if (await ask(agent, 'segment', `${live}/${o.track}/${k}.m4s`)) report.segments.add(k);
        k++;
      }
    })();
    await Promise.all([every(D / 2, phase, () => ask(agent, 'mpd', `${live}/index.mpd`)), segments]);
  };

  const hls = async (agent: Agent, phase: number) => {
    await ask(agent, 'multivariant', `${live}/index.m3u8`);
    await ask(agent, 'init', `${live}/${o.track}/init.mp4`);
    let next: number | undefined;
    const poll = async () => {
      const playlist = await ask(agent, 'playlist', `${live}/${o.track}/index.m3u8`, true);
      const newest = playlist?.text ? lastListedK(playlist.text) : undefined;
      if (newest === undefined) return;
      next ??= newest - 2;
      for (; next <= newest && running(); next++)
        if (await ask(agent, 'segment', `${live}/${o.track}/${next}.m4s`)) report.segments.add(next);
    };
    await poll();
    await every(D / 2, phase, poll);
  };

  const hlsCount = Math.round(o.players * (o.hlsShare ?? 0.5));
  const agents: Agent[] = [];
  await Promise.all(
    Array.from({ length: o.players }, async (_, i) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 2 });
      agents.push(agent);
      const isHls = i < hlsCount;
      const [index, count] = isHls ? [i, hlsCount] : [i - hlsCount, o.players - hlsCount];
      const phase = (index / count) * (D / 2);
      await sleep(phase);
      await (isHls ? hls(agent, phase) : dash(agent, phase));
    }),
  );
  report.seconds = (Date.now() - started) / 1000;
  for (const a of agents) a.destroy();
  return report;
}
