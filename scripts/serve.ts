/**
 * `npm run serve`: the production-like local mode. The same Worker (the bundle `wrangler deploy`
 * would upload), the same EventOrigin Durable Objects (SQLite), Workers KV, `caches.default` and
 * static assets as `wrangler dev`, run on workerd through Miniflare's API — without `wrangler
 * dev`'s proxy in front (docs/operations.md, "Production-like local mode").
 *
 * What a request crosses here: workerd's HTTP socket → the assets router (run_worker_first, as in
 * production) → our Worker. Under `wrangler dev` it first crosses wrangler's proxy workerd (a
 * second process) and Miniflare's entry worker. Nothing watches the sources: restart to pick up
 * a change. The benchmarks (bench/edge.ts) run trivial baseline Workers in the same workerd.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from 'wrangler';

/** A Worker to run beside ours in the same workerd (benchmark baselines). */
export interface ExtraWorker {
  name: string;
  /** One ES module, the Worker's whole source. */
  script: string;
  /** Give it our Worker's static assets and run_worker_first too: requests take the same path. */
  withAssets?: boolean;
  /** Bytes bound as ArrayBuffers (env.NAME). */
  data?: Record<string, Uint8Array>;
  /** Durable Object classes the script exports, by binding name (env.NAME → class), kept in memory. */
  durableObjects?: Record<string, string>;
}

export interface ServeOptions {
  /** Default 8787; 0 picks a free port. */
  port?: number;
  host?: string;
  /** State directory (Durable Objects, KV, cache); default `.wrangler/state`, shared with `npm start`. A fresh temp dir when null, removed on stop(). */
  persistTo?: string | null;
  /** Repository root (wrangler.toml); default process.cwd(). */
  cwd?: string;
  extraWorkers?: ExtraWorker[];
  /** Where the Workers' console output goes (default stdout; a benchmark printing markdown on stdout says stderr). */
  logTo?: 'stdout' | 'stderr';
  /** Open workerd's inspector (Chrome DevTools protocol) on this port, e.g. to profile: ws://127.0.0.1:PORT/core:user:NAME. */
  inspectorPort?: number;
  /** Vars that replace wrangler.toml's and .dev.vars' (a benchmark's shorter REGION_DOWN_MS, say). */
  vars?: Record<string, string>;
}

export interface Served {
  /** Our Worker, as players and the encoder bridge reach it. */
  url: string;
  /** Base URL of each extra worker, by name. */
  extra: Record<string, string>;
  stop(): Promise<void>;
}

/** The Worker exactly as `wrangler deploy` bundles it (`--dry-run --outdir`). */
async function bundle(cwd: string, outdir: string): Promise<string> {
  const wrangler = join(cwd, 'node_modules', '.bin', 'wrangler');
  const run = spawnSync(wrangler, ['deploy', '--dry-run', '--outdir', outdir], {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: 'false',
      WRANGLER_LOG: 'warn',
      PATH: `${join(cwd, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
    },
  });
  if (run.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${run.stdout}${run.stderr}`);
  return join(outdir, 'worker.js');
}

export async function startServe(options: ServeOptions = {}): Promise<Served> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const host = options.host ?? '127.0.0.1';
  const tmp = await mkdtemp(join(tmpdir(), 'serve-'));
  const ownState = options.persistTo === null;
  const persistTo = ownState ? join(tmp, 'state') : resolve(cwd, options.persistTo ?? '.wrangler/state');
  const main = await bundle(cwd, join(tmp, 'bundle'));
  // wrangler's own notes ("Using secrets defined in .dev.vars") would go to stdout.
  const logLevel = process.env.WRANGLER_LOG;
  process.env.WRANGLER_LOG = 'warn';
  const config = unstable_readConfig({ config: join(cwd, 'wrangler.toml') });
  const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
  if (logLevel === undefined) delete process.env.WRANGLER_LOG;
  else process.env.WRANGLER_LOG = logLevel;
  const out = options.logTo === 'stderr' ? process.stderr : process.stdout;
  // wrangler.toml's name: Durable Object state is kept per script name, so `npm start` and
  // `npm run serve` share .wrangler/state (one at a time).
  const name = config.name ?? 'live-origin-shield';
  const extras = options.extraWorkers ?? [];
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      rootPath: cwd,
      // Miniflare's own entry socket (its entry worker in front of ours): not what we serve on.
      host: '127.0.0.1',
      port: 0,
      resourcePersistencePath: join(persistTo, 'v3'),
      resourceTmpPath: join(tmp, 'mf'),
      logRequests: false,
      ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
      handleStructuredLogs: ({ level, message }: { level: string; message: string }) =>
        (level === 'error' || level === 'warn' ? process.stderr : out).write(`${message}\n`),
      workers: [
        {
          ...workerOptions,
          bindings: { ...(workerOptions.bindings as Record<string, unknown> | undefined), ...options.vars },
          name,
          modules: [{ type: 'ESModule', path: main, contents: await readFile(main, 'utf8') }],
          modulesRoot: join(tmp, 'bundle'),
          unsafeDirectSockets: [{ host, port: options.port ?? 8787 }],
        },
        ...extras.map((w) => ({
          name: w.name,
          compatibilityDate: workerOptions.compatibilityDate,
          modules: true,
          script: w.script,
          dataBlobBindings: w.data ?? {},
          ...(w.durableObjects ? { durableObjects: w.durableObjects } : {}),
          ...(w.withAssets ? { assets: workerOptions.assets } : {}),
          unsafeDirectSockets: [{ host, port: 0 }],
        })),
      ],
    } as Parameters<typeof convertV4MiniflareOptions>[0]),
  );
  try {
    await mf.ready;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  const url = (await mf.unsafeGetDirectURL(name)).href.replace(/\/$/, '');
  const extra: Record<string, string> = {};
  for (const w of extras) extra[w.name] = (await mf.unsafeGetDirectURL(w.name)).href.replace(/\/$/, '');
  return {
    url,
    extra,
    stop: async () => {
      await mf.dispose();
      await rm(tmp, { recursive: true, force: true });
      if (ownState) await rm(persistTo, { recursive: true, force: true });
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 8787);
  const served = await startServe({ port });
  console.log(
    `serve: the Worker on workerd (no wrangler dev proxy) at ${served.url} — player page ${served.url}/, live routes under ${served.url}/live/; state in .wrangler/state; Ctrl-C stops`,
  );
  const stop = async () => {
    await served.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}
