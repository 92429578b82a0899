/**
 * Start one real `wrangler dev` for tests, scripts and browser runs. The process is spawned
 * detached (its own process group) so stop() can end wrangler AND the workerd it starts, and
 * nothing else.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface WranglerDevOptions {
  /** Port to listen on; default: a free one. */
  port?: number;
  /** State directory; default: a fresh temp dir, removed on stop(). */
  persistTo?: string;
  /** Repository root (where wrangler.toml lives); default: process.cwd(). */
  cwd?: string;
  /** How long to wait for GET /time to answer. */
  readyTimeoutMs?: number;
  /** Extra wrangler dev arguments, e.g. ['--var', 'REGION:r2']. */
  extraArgs?: string[];
  /** Forward wrangler output to this process's stderr (default: only when it fails to start). */
  inheritOutput?: boolean;
}

export interface WranglerDev {
  url: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export async function startWranglerDev(options: WranglerDevOptions = {}): Promise<WranglerDev> {
  // Two test files starting wrangler dev at once can both be handed a port (ours from freePort,
  // or one wrangler picks for itself) that the other binds first: "Address already in use".
  // A fresh port on a second try fixes that; any other failure is reported at once.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      const clash = /address already in use|EADDRINUSE/i.test((err as Error).message);
      if (!clash || options.port !== undefined || attempt >= 3) throw err;
      console.warn(`wrangler dev: a port was taken while starting (attempt ${attempt}); trying again`);
    }
  }
}

async function startOnce(options: WranglerDevOptions): Promise<WranglerDev> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const port = options.port ?? (await freePort());
  const ownState = options.persistTo === undefined;
  const persistTo = options.persistTo ?? (await mkdtemp(join(tmpdir(), 'wrangler-state-')));
  const url = `http://127.0.0.1:${port}`;
  const wrangler = join(cwd, 'node_modules', '.bin', 'wrangler');
  const args = [
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--persist-to',
    persistTo,
    '--log-level',
    'warn',
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(wrangler, args, {
    cwd,
    detached: true,
    stdio: ['ignore', options.inheritOutput ? 'inherit' : 'pipe', options.inheritOutput ? 'inherit' : 'pipe'],
    // node_modules/.bin first so wrangler's `#!/usr/bin/env node` finds Node 24, not the system 20.
    env: {
      ...process.env,
      CI: '1',
      WRANGLER_SEND_METRICS: 'false',
      PATH: `${join(cwd, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
    },
  });
  let output = '';
  child.stdout?.on('data', (d) => (output = (output + d).slice(-20_000)));
  child.stderr?.on('data', (d) => (output = (output + d).slice(-20_000)));

  const stop = async () => {
    await killGroup(child);
    if (ownState) await rm(persistTo, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(url, child, options.readyTimeoutMs ?? 90_000);
  } catch (err) {
    await stop();
    throw new Error(`wrangler dev did not start: ${(err as Error).message}\n--- wrangler output ---\n${output}`);
  }
  return { url, stop };
}

async function waitUntilReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/time`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`GET ${url}/time did not answer within ${timeoutMs} ms`);
}

async function killGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  const pgid = child.pid;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pgid, sig); // the whole group: wrangler and the workerd it started
    } catch {
      // group already gone
    }
  };
  const exited =
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((r) => child.once('exit', () => r()));
  // Even when wrangler itself has exited, its workerd may still be running in the group.
  signal('SIGTERM');
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((r) => setTimeout(() => r(true), 5000)),
  ]);
  if (timedOut) {
    signal('SIGKILL');
    await exited;
  }
}
