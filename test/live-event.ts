/**
 * A real live event for pipeline and browser tests: one encoder bridge process and the synthetic
 * source feeding it, publishing into a running Worker. Both run as child processes exactly as
 * `npm start` runs them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './wrangler-dev.ts';

export interface LiveEvent {
  event: string;
  pipeline: string;
  bridgeUrl: string;
  /** Kill the bridge (not the source), as a crash would. */
  killBridge(): void;
  stop(): Promise<void>;
  output(): string;
}

export interface BridgeStatus {
  pipeline: { state: string; ffmpegRestarts: number; run?: { firstSegment: number; tracks: Record<string, { segments: number; lastK?: number }> } };
  publish: { published: number; failed: number; lastK?: number };
}

export async function startLiveEvent(opts: { workerUrl: string; event: string; pipeline?: string; fps?: string }): Promise<LiveEvent> {
  const pipeline = opts.pipeline ?? 'A';
  const port = await freePort();
  const bridgeUrl = `http://127.0.0.1:${port}`;
  let output = '';
  const collect = (child: ChildProcess) => {
    child.stdout?.on('data', (d) => (output = (output + d).slice(-50_000)));
    child.stderr?.on('data', (d) => (output = (output + d).slice(-50_000)));
  };
  const bridge = spawn(process.execPath, ['encoder-bridge/main.ts', '--event', opts.event, '--pipeline', pipeline, '--listen-port', String(port), '--ingest-url', opts.workerUrl], { stdio: ['ignore', 'pipe', 'pipe'] });
  collect(bridge);
  await waitFor(async () => (await fetch(`${bridgeUrl}/status`)).ok, 15_000, 'bridge /status');
  const source = spawn(process.execPath, ['encoder-bridge/synthetic-source.ts', '--push', `${bridgeUrl}/feed`, '--fps', opts.fps ?? '30'], { stdio: ['ignore', 'pipe', 'pipe'] });
  collect(source);
  const stopChild = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    });
  return {
    event: opts.event,
    pipeline,
    bridgeUrl,
    killBridge: () => bridge.kill('SIGKILL'),
    stop: async () => {
      await Promise.all([stopChild(source), stopChild(bridge)]);
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
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}
