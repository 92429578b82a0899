/**
 * A real live event for pipeline and browser tests: one synthetic source feeding one or more
 * encoder bridges (pipelines), publishing into a running Worker. All run as child processes
 * exactly as `npm start` runs them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './wrangler-dev.ts';
import { ensureEvent } from './ingest-client.ts';

export interface LiveEvent {
  event: string;
  /** Bridge base URL per pipeline (also while that bridge is stopped). */
  bridges: Record<string, string>;
  /** Kept for single-pipeline callers: the first pipeline's bridge. */
  bridgeUrl: string;
  /** Kill a bridge as a crash would (SIGKILL). */
  killBridge(pipeline?: string): void;
  /** Start a (killed) bridge again on the same port; the source reconnects to it. */
  startBridge(pipeline: string): Promise<void>;
  stop(): Promise<void>;
  output(): string;
}

export interface BridgeStatus {
  pipeline: {
    state: string;
    ffmpegRestarts: number;
    run?: { firstSegment: number; tracks: Record<string, { segments: number; lastK?: number }> };
  };
  publish: {
    published: number;
    failed: number;
    lastK?: number;
    retried: number;
    regions: Record<string, { published: number; failed: number; retried: number; lastK?: number }>;
  };
}

export async function startLiveEvent(opts: {
  workerUrl: string;
  event: string;
  pipelines?: string[];
  /** Start each further pipeline this long after the previous one (they never talk anyway). */
  staggerMs?: number;
  fps?: string;
  /** Source picture size (synthetic-source --size), e.g. a small one to spare CPU. */
  size?: string;
  /** Bridge ladder preset (contract/ladder.ts), e.g. 'tiny' when several pipelines share 2 cores. */
  ladder?: string;
  /** Extra flags for the bridges, e.g. a different ingest URL per pipeline. */
  ingestUrlFor?: (pipeline: string) => string;
  /** The bridges' --publish-to (regions, each optionally with its own ingest URL); default the bridge's own (r1,r2). */
  publishToFor?: (pipeline: string) => string;
  /** More flags for every bridge (e.g. --cc1-language en) and for the source (e.g. --cc608 on). */
  bridgeFlags?: string[];
  sourceFlags?: string[];
  /** More feed URLs the source pushes the same MPEG-TS to (e.g. a baseline encoder in a benchmark). */
  extraFeeds?: string[];
  /** More of the event's definition (contract/control-plane.ts) when the event is created here. */
  definition?: Record<string, unknown>;
}): Promise<LiveEvent> {
  const pipelines = opts.pipelines ?? ['A'];
  // Ingest reaches only events the hub created (edge/event-gate.ts); a test that created it already is fine.
  await ensureEvent(opts.workerUrl, opts.event, opts.definition);
  let output = '';
  const collect = (child: ChildProcess) => {
    child.stdout?.on('data', (d) => (output = (output + d).slice(-50_000)));
    child.stderr?.on('data', (d) => (output = (output + d).slice(-50_000)));
  };
  const ports = Object.fromEntries(await Promise.all(pipelines.map(async (p) => [p, await freePort()] as const)));
  const bridges = Object.fromEntries(pipelines.map((p) => [p, `http://127.0.0.1:${ports[p]}`]));
  const children = new Map<string, ChildProcess>();

  const startBridge = async (pipeline: string) => {
    const ingest = opts.ingestUrlFor?.(pipeline) ?? opts.workerUrl;
    const child = spawn(
      process.execPath,
      [
        'encoder-bridge/main.ts',
        '--event',
        opts.event,
        '--pipeline',
        pipeline,
        '--listen-port',
        String(ports[pipeline]),
        '--ingest-url',
        ingest,
        ...(opts.ladder ? ['--ladder', opts.ladder] : []),
        ...(opts.publishToFor ? ['--publish-to', opts.publishToFor(pipeline)] : []),
        ...(opts.bridgeFlags ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    collect(child);
    children.set(pipeline, child);
    await waitFor(async () => (await fetch(`${bridges[pipeline]}/status`)).ok, 15_000, `bridge ${pipeline} /status`);
  };

  await startBridge(pipelines[0]);
  const source = spawn(
    process.execPath,
    [
      'encoder-bridge/synthetic-source.ts',
      '--push',
      [...pipelines.map((p) => `${bridges[p]}/feed`), ...(opts.extraFeeds ?? [])].join(','),
      '--fps',
      opts.fps ?? '30',
      ...(opts.size ? ['--size', opts.size] : []),
      ...(opts.sourceFlags ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  collect(source);
  for (const p of pipelines.slice(1)) {
    await new Promise((r) => setTimeout(r, opts.staggerMs ?? 0));
    await startBridge(p);
  }

  const stopChild = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    });
  return {
    event: opts.event,
    bridges,
    bridgeUrl: bridges[pipelines[0]],
    killBridge: (pipeline = pipelines[0]) => children.get(pipeline)?.kill('SIGKILL'),
    startBridge,
    stop: async () => {
      await Promise.all([stopChild(source), ...[...children.values()].map(stopChild)]);
    },
    output: () => output,
  };
}

export async function bridgeStatus(bridgeUrl: string): Promise<BridgeStatus> {
  return (await (await fetch(`${bridgeUrl}/status`)).json()) as BridgeStatus;
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
  );
}
