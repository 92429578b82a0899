import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { EventDefinition } from '../contract/control-plane.ts';
import { EventId, PipelineId } from '../contract/ids.ts';
import { bridgeSettings, cc1Language } from '../orchestrator/bridge-settings.ts';
import type { PipelineSpec } from '../orchestrator/provisioner.ts';
import { DEV_PROVISIONER_TOKEN } from '../orchestrator/provisioner-select.ts';

/**
 * The local provision agent (docs/control-plane.md, "Provisioning"): a small HTTP server on this
 * machine that the hub's local provisioner (orchestrator/provisioner-local.ts, PROVISIONER =
 * "local") asks to start and stop encoder-bridge processes. `npm start` runs it.
 *
 * - `POST /pipelines` `{spec}`: start the bridge of (event, pipeline) with the settings derived
 *   from the definition (orchestrator/bridge-settings.ts), on a listen port of its own. For a
 *   `test` event the agent also runs one synthetic source pushing to every pipeline's feed of the
 *   event, so A and B get the same bytes; the source keeps running while any bridge of the event
 *   runs, and a bridge that restarts is pushed to again by the source's fan-out.
 * - `DELETE /pipelines/{event}/{pipeline}`: SIGTERM the bridge's process group.
 * - `GET /pipelines`: what runs (the hub reattaches to these after it restarts).
 * - `GET /health`: 200, no credential.
 * Every other request needs `Authorization: Bearer <PROVISIONER_TOKEN>`; bodies are zod-validated.
 * A bridge that exits on its own is restarted after a second, as a supervisor would.
 */

export const PipelineSpecBody = z
  .object({
    spec: z
      .object({
        event: EventId,
        pipeline: PipelineId,
        definition: EventDefinition,
        ingestToken: z.string().min(1).max(4096),
        captionsToken: z.string().min(1).max(4096),
      })
      .strict(),
  })
  .strict()
  .refine((b) => b.spec.definition.id === b.spec.event, {
    message: 'spec.event must be the definition id',
    path: ['spec', 'event'],
  })
  .refine((b) => b.spec.definition.pipelines.includes(b.spec.pipeline), {
    message: "spec.pipeline must be one of the definition's pipelines",
    path: ['spec', 'pipeline'],
  });

export interface AgentOptions {
  /** Bearer token callers must present. */
  token: string;
  /** The Worker's base URL: bridges publish there and report to its hub. */
  ingestUrl: string;
  /** Where bridges open the hub's spoke socket (default: ingestUrl); null: bridges do not report. */
  hubUrl?: string | null;
  /** First listen port handed to bridges; each (event, pipeline) gets its own from here up. */
  basePort?: number;
  /** The Node arguments that run a bridge (default: encoder-bridge/main.ts); settings come in the env. */
  bridgeArgs?: string[];
  /** The Node arguments that run the synthetic source of a test event, pushing to `feeds`. */
  sourceArgs?: (feeds: string[], def: EventDefinition) => string[];
  /** Repository root (the children's cwd). */
  cwd?: string;
  /** A bridge that exits on its own is restarted after this long. */
  restartDelayMs?: number;
  /** Children's output: inherited (default, `npm start`) or ignored (tests). */
  childOutput?: 'inherit' | 'ignore';
  log?: (message: string) => void;
}

interface Supervised {
  child: ChildProcess | undefined;
  restarts: number;
  stopping: boolean;
  timer?: NodeJS.Timeout;
}

interface RunningBridge extends Supervised {
  event: string;
  pipeline: string;
  port: number;
  startedAt: number;
  test: boolean;
}

/** One per event with running bridges: its pipelines' ports (kept while any runs) and its source. */
interface EventSlot {
  ports: Map<string, number>;
  source?: Supervised;
}

/**
 * The synthetic source of a test event: the event's audio languages (one tagged test tone each,
 * which the bridges map to their renditions) and CEA-608 when the event has captions for CC1.
 */
export function syntheticSourceArgs(feeds: string[], def: EventDefinition): string[] {
  return [
    'encoder-bridge/synthetic-source.ts',
    '--push',
    feeds.join(','),
    '--audio-languages',
    def.audioLanguages.join(','),
    '--cc608',
    cc1Language(def) ? 'on' : 'off',
  ];
}

const key = (event: string, pipeline: string) => `${event}/${pipeline}`;

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const probe = createNetServer();
    probe.once('error', () => done(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)));
  });
}

function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export class ProvisionAgent {
  readonly server: http.Server;
  private readonly bridges = new Map<string, RunningBridge>();
  private readonly events = new Map<string, EventSlot>();
  private readonly opts: Required<Omit<AgentOptions, 'hubUrl'>> & { hubUrl: string | null };
  /** Serialises starts and stops: port allocation and the source's feed list stay consistent. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: AgentOptions) {
    this.opts = {
      basePort: 9001,
      bridgeArgs: ['encoder-bridge/main.ts'],
      sourceArgs: syntheticSourceArgs,
      cwd: process.cwd(),
      restartDelayMs: 1000,
      childOutput: 'inherit',
      log: (m) => console.log(`${new Date().toISOString()} [agent] ${m}`),
      ...options,
      hubUrl: options.hubUrl === undefined ? options.ingestUrl : options.hubUrl,
    };
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        this.opts.log(`error: ${(err as Error).stack}`);
        if (!res.headersSent) send(res, 500, { error: 'INTERNAL', message: (err as Error).message });
      });
    });
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((done, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const address = this.server.address();
        done(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** What runs, for GET /pipelines. */
  list() {
    return [...this.bridges.values()].map((b) => ({
      event: b.event,
      pipeline: b.pipeline,
      pid: b.child?.pid ?? null,
      port: b.port,
      feedUrl: `http://127.0.0.1:${b.port}/feed`,
      statusUrl: `http://127.0.0.1:${b.port}/status`,
      startedAt: new Date(b.startedAt).toISOString(),
      restarts: b.restarts,
      test: b.test,
      syntheticSource: this.events.get(b.event)?.source?.child?.pid ?? null,
    }));
  }

  /** Start one pipeline's bridge; a pipeline that already runs is left as it is. */
  start(spec: PipelineSpec): Promise<{ started: boolean; port: number }> {
    return this.serially(async () => {
      const existing = this.bridges.get(key(spec.event, spec.pipeline));
      if (existing) return { started: false, port: existing.port };
      const def = spec.definition;
      const slot = await this.slotFor(def);
      const port = slot.ports.get(spec.pipeline)!;
      const { env } = bridgeSettings(spec, {
        ingestUrl: this.opts.ingestUrl,
        hubUrl: this.opts.hubUrl ?? undefined,
        listenPort: port,
      });
      const bridge: RunningBridge = {
        event: spec.event,
        pipeline: spec.pipeline,
        port,
        startedAt: Date.now(),
        test: def.test,
        child: undefined,
        restarts: 0,
        stopping: false,
      };
      this.bridges.set(key(spec.event, spec.pipeline), bridge);
      this.supervise(bridge, `bridge ${key(spec.event, spec.pipeline)}`, this.opts.bridgeArgs, env);
      this.opts.log(`started bridge ${key(spec.event, spec.pipeline)} on port ${port} (pid ${bridge.child?.pid})`);
      if (def.test && !slot.source) {
        // One source for the whole event, pushing to every pipeline's port: A and B get the same feed.
        const feeds = def.pipelines.map((p) => `http://127.0.0.1:${slot.ports.get(p)}/feed`);
        slot.source = { child: undefined, restarts: 0, stopping: false };
        this.supervise(slot.source, `synthetic source of ${spec.event}`, this.opts.sourceArgs(feeds, def), {});
        this.opts.log(`started the synthetic source of test event ${spec.event} → ${feeds.join(', ')}`);
      }
      return { started: true, port };
    });
  }

  /** Stop one pipeline's bridge (SIGTERM to its process group); false when it was not running. */
  stop(event: string, pipeline: string): Promise<boolean> {
    return this.serially(async () => {
      const bridge = this.bridges.get(key(event, pipeline));
      if (!bridge) return false;
      this.bridges.delete(key(event, pipeline));
      await terminate(bridge);
      this.opts.log(`stopped bridge ${key(event, pipeline)}`);
      if (![...this.bridges.values()].some((b) => b.event === event)) {
        const slot = this.events.get(event);
        this.events.delete(event);
        if (slot?.source) {
          await terminate(slot.source);
          this.opts.log(`stopped the synthetic source of ${event}`);
        }
      }
      return true;
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.bridges.values()].map((b) => this.stop(b.event, b.pipeline)));
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => {});
    return next;
  }

  /** The event's ports: one per pipeline of its definition, allocated when its first bridge starts. */
  private async slotFor(def: EventDefinition): Promise<EventSlot> {
    let slot = this.events.get(def.id);
    if (!slot) {
      slot = { ports: new Map() };
      this.events.set(def.id, slot);
    }
    const taken = new Set([...this.events.values()].flatMap((s) => [...s.ports.values()]));
    let candidate = this.opts.basePort;
    for (const pipeline of def.pipelines) {
      if (slot.ports.has(pipeline)) continue;
      while (taken.has(candidate) || !(await portIsFree(candidate))) candidate++;
      slot.ports.set(pipeline, candidate);
      taken.add(candidate);
    }
    return slot;
  }

  private supervise(s: Supervised, name: string, args: string[], env: Record<string, string>): void {
    const run = () => {
      const child = spawn(process.execPath, args, {
        cwd: this.opts.cwd,
        env: { ...process.env, ...env },
        // Its own process group: a stop ends the bridge and the ffmpeg it runs, nothing else.
        detached: true,
        stdio: ['ignore', this.opts.childOutput, this.opts.childOutput],
      });
      s.child = child;
      child.on('exit', (code, signal) => {
        if (s.child === child) s.child = undefined;
        if (s.stopping) return;
        s.restarts++;
        this.opts.log(`${name} exited (code ${code}, signal ${signal}); restarting in ${this.opts.restartDelayMs} ms`);
        s.timer = setTimeout(run, this.opts.restartDelayMs);
      });
    };
    run();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://agent');
    if (req.method === 'GET' && url.pathname === '/health') return send(res, 200, { ok: true });
    const auth = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!auth) return send(res, 401, { error: 'UNAUTHORIZED', message: 'Authorization: Bearer <PROVISIONER_TOKEN>' });
    if (!sameToken(auth, this.opts.token)) return send(res, 403, { error: 'FORBIDDEN', message: 'wrong token' });

    if (url.pathname === '/pipelines') {
      if (req.method === 'GET') return send(res, 200, { pipelines: this.list() });
      if (req.method !== 'POST') return send(res, 405, { error: 'METHOD_NOT_ALLOWED', message: 'GET or POST' });
      const raw = await readJson(req);
      if (!raw.ok) return send(res, 400, { error: 'BAD_BODY', message: raw.message });
      const parsed = PipelineSpecBody.safeParse(raw.value);
      if (!parsed.success)
        return send(res, 400, {
          error: 'BAD_BODY',
          message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        });
      const { spec } = parsed.data;
      const r = await this.start(spec);
      return send(res, r.started ? 201 : 200, {
        event: spec.event,
        pipeline: spec.pipeline,
        started: r.started,
        port: r.port,
        feedUrl: `http://127.0.0.1:${r.port}/feed`,
      });
    }
    const m = /^\/pipelines\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (m) {
      if (req.method !== 'DELETE') return send(res, 405, { error: 'METHOD_NOT_ALLOWED', message: 'DELETE' });
      const ids = z
        .object({ event: EventId, pipeline: PipelineId })
        .safeParse({ event: decodeURIComponent(m[1]), pipeline: decodeURIComponent(m[2]) });
      if (!ids.success) return send(res, 400, { error: 'BAD_PATH', message: ids.error.issues[0].message });
      const stopped = await this.stop(ids.data.event, ids.data.pipeline);
      return stopped
        ? send(res, 200, { stopped: `${ids.data.event}/${ids.data.pipeline}` })
        : send(res, 404, { error: 'NOT_RUNNING', message: `${ids.data.event}/${ids.data.pipeline} is not running` });
    }
    return send(res, 404, { error: 'ROUTE_NOT_FOUND', message: `no route for ${req.method} ${url.pathname}` });
  }
}

/** SIGTERM the process group, SIGKILL after 5 s; resolves when it has exited. */
async function terminate(s: Supervised): Promise<void> {
  s.stopping = true;
  clearTimeout(s.timer);
  const child = s.child;
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

const MAX_BODY_BYTES = 1 << 20;

async function readJson(
  req: http.IncomingMessage,
): Promise<{ ok: true; value: unknown } | { ok: false; message: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return { ok: false, message: `body larger than ${MAX_BODY_BYTES} bytes` };
    chunks.push(chunk as Buffer);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return { ok: false, message: 'body must be JSON' };
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.PROVISION_AGENT_PORT ?? '8790' },
      'ingest-url': { type: 'string', default: process.env.INGEST_URL ?? 'http://127.0.0.1:8787' },
      'hub-url': { type: 'string', default: process.env.HUB_URL },
      'base-port': { type: 'string', default: process.env.BRIDGE_PORT ?? '9001' },
    },
  });
  const agent = new ProvisionAgent({
    token: process.env.PROVISIONER_TOKEN ?? DEV_PROVISIONER_TOKEN,
    ingestUrl: values['ingest-url']!,
    hubUrl: values['hub-url'],
    basePort: Number(values['base-port']),
    cwd: resolve(import.meta.dirname, '..'),
  });
  const port = await agent.listen(Number(values.port));
  console.log(
    `${new Date().toISOString()} [agent] provision agent on http://127.0.0.1:${port} (bridges publish to ${values['ingest-url']})`,
  );
  let closing = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      if (closing) return;
      closing = true;
      void agent.close().then(() => process.exit(0));
    });
}

if (import.meta.main) await main();
