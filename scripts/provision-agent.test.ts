import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventDefinition } from '../contract/control-plane.ts';
import { AppError } from '../contract/errors.ts';
import { bridgeSettings } from '../orchestrator/bridge-settings.ts';
import type { PipelineSpec } from '../orchestrator/provisioner.ts';
import { localProvisioner } from '../orchestrator/provisioner-local.ts';
import { ProvisionAgent, syntheticSourceArgs } from './provision-agent.ts';

/**
 * The provision agent in process, supervising real child processes: `node -e` stand-ins for the
 * bridge and the synthetic source that write the settings they were given (env, argv) to a file
 * and then idle, so the test sees what a real bridge would have been started with.
 */
const TOKEN = 'test-provisioner-token';
const RECORD = (what: string) =>
  `const fs=require('fs');const out=process.argv[1];` +
  `fs.writeFileSync(out+'/${what}-'+(process.env.BRIDGE_PIPELINE||process.pid)+'.json',JSON.stringify({env:process.env,argv:process.argv.slice(2)}));` +
  'setInterval(()=>{},1000);process.on("SIGTERM",()=>process.exit(0));';

const def = (over: Record<string, unknown> = {}) =>
  EventDefinition.parse({
    id: 'show',
    ladder: 'local',
    regions: ['r1', 'r2'],
    captions: [
      { language: 'en', label: 'English', default: true },
      { language: 'es', label: 'Español' },
    ],
    audioLanguages: ['en', 'es'],
    test: true,
    ...over,
  });
const spec = (pipeline: string, definition = def()): PipelineSpec => ({
  event: definition.id,
  pipeline,
  definition,
  ingestToken: `ingest-${pipeline}`,
  captionsToken: 'captions',
});

let dir: string;
let agent: ProvisionAgent;
let base: string;

async function readRecord(name: string): Promise<{ env: Record<string, string>; argv: string[] }> {
  for (let i = 0; i < 100; i++) {
    try {
      return JSON.parse(await readFile(join(dir, name), 'utf8'));
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${name} never written`);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  expect(alive(pid)).toBe(false);
}

const call = (method: string, path: string, body?: unknown, token: string | null = TOKEN) =>
  fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agent-test-'));
  agent = new ProvisionAgent({
    token: TOKEN,
    ingestUrl: 'http://127.0.0.1:8787',
    basePort: 19_301,
    bridgeArgs: ['-e', RECORD('bridge'), dir],
    sourceArgs: (feeds) => ['-e', RECORD('source'), dir, '--push', feeds.join(',')],
    childOutput: 'ignore',
    restartDelayMs: 100,
    log: () => {},
  });
  base = `http://127.0.0.1:${await agent.listen(0)}`;
});

afterEach(async () => {
  await agent.close();
  await rm(dir, { recursive: true, force: true });
});

describe('provision agent', () => {
  it("gives a test event's synthetic source the event's audio languages and CC1 when it has captions", () => {
    const args = syntheticSourceArgs(['http://127.0.0.1:1/feed'], def({ audioLanguages: ['fr', 'de'], captions: [] }));
    expect(args.slice(args.indexOf('--audio-languages'), args.indexOf('--audio-languages') + 2)).toEqual([
      '--audio-languages',
      'fr,de',
    ]);
    expect(args.slice(args.indexOf('--cc608'), args.indexOf('--cc608') + 2)).toEqual(['--cc608', 'off']);
  });

  it('refuses requests without the token or with another one; /health is open', async () => {
    expect((await call('GET', '/pipelines', undefined, null)).status).toBe(401);
    expect((await call('GET', '/pipelines', undefined, 'nope')).status).toBe(403);
    expect((await call('POST', '/pipelines', { spec: spec('A') }, 'nope')).status).toBe(403);
    expect((await call('GET', '/health', undefined, null)).status).toBe(200);
    expect(agent.list()).toEqual([]);
  });

  it('validates bodies and paths with zod', async () => {
    const bad = [
      'not json',
      {},
      { spec: { ...spec('A'), extra: 1 } },
      { spec: { ...spec('A'), pipeline: 'C' } },
      { spec: { ...spec('A'), event: 'other' } },
      { spec: { ...spec('A'), ingestToken: '' } },
      { spec: { ...spec('A'), definition: { ...def(), ladder: 'no-such-ladder' } } },
    ];
    for (const body of bad) {
      const res = await call('POST', '/pipelines', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('BAD_BODY');
    }
    expect((await call('DELETE', '/pipelines/Bad_Event/A')).status).toBe(400);
    expect((await call('DELETE', '/pipelines/show/A')).status).toBe(404);
    expect((await call('PUT', '/pipelines')).status).toBe(405);
    expect(agent.list()).toEqual([]);
  });

  it('starts A and B with the settings of the definition, one synthetic source feeding both, and stops them', async () => {
    const a = await call('POST', '/pipelines', { spec: spec('A') });
    expect(a.status).toBe(201);
    const b = await call('POST', '/pipelines', { spec: spec('B') });
    expect(b.status).toBe(201);
    const portA = ((await a.json()) as { port: number }).port;
    const portB = ((await b.json()) as { port: number }).port;
    expect(portA).not.toBe(portB);

    // The bridge's settings: the same as orchestrator/bridge-settings.ts gives, but for the pipeline, token and port.
    const recA = await readRecord('bridge-A.json');
    const recB = await readRecord('bridge-B.json');
    const expected = bridgeSettings(spec('A'), {
      ingestUrl: 'http://127.0.0.1:8787',
      hubUrl: 'http://127.0.0.1:8787',
      listenPort: portA,
    }).env;
    for (const [k, v] of Object.entries(expected)) expect(recA.env[k], k).toBe(v);
    expect(recA.env).toMatchObject({
      BRIDGE_EVENT: 'show',
      BRIDGE_PIPELINE: 'A',
      BRIDGE_LADDER: 'local',
      BRIDGE_AUDIO_LANGUAGES: 'en,es',
      // No parts unless the definition asks for low latency.
      PART_DURATION_MS: '0',
      PART_REGIONS: 'first',
      PUBLISH_TO: 'r1,r2',
      INGEST_TOKEN: 'ingest-A',
      BRIDGE_CC1_LANGUAGE: 'en',
      HUB_URL: 'http://127.0.0.1:8787',
    });
    const differs = Object.keys(expected).filter((k) => recA.env[k] !== recB.env[k]);
    expect(differs.sort()).toEqual(['BRIDGE_LISTEN_PORT', 'BRIDGE_PIPELINE', 'INGEST_TOKEN']);

    // One source for the event, pushing to both feeds.
    const listed = (await (await call('GET', '/pipelines')).json()) as {
      pipelines: { event: string; pipeline: string; pid: number; port: number; syntheticSource: number }[];
    };
    expect(listed.pipelines.map((p) => `${p.event}/${p.pipeline}`)).toEqual(['show/A', 'show/B']);
    const sourcePid = listed.pipelines[0].syntheticSource;
    expect(listed.pipelines[1].syntheticSource).toBe(sourcePid);
    const source = await readRecord(`source-${sourcePid}.json`);
    expect(source.argv).toEqual(['--push', `http://127.0.0.1:${portA}/feed,http://127.0.0.1:${portB}/feed`]);

    // Starting a running pipeline again changes nothing.
    const again = await call('POST', '/pipelines', { spec: spec('A') });
    expect(again.status).toBe(200);
    expect(agent.list().find((p) => p.pipeline === 'A')?.pid).toBe(listed.pipelines[0].pid);

    // Stopping A keeps the source (B still runs) and A's port for a restart.
    expect((await call('DELETE', '/pipelines/show/A')).status).toBe(200);
    await waitGone(listed.pipelines[0].pid);
    expect(alive(sourcePid)).toBe(true);
    const restarted = await call('POST', '/pipelines', { spec: spec('A') });
    expect(((await restarted.json()) as { port: number }).port).toBe(portA);

    // The last bridge of the event gone: the source goes too.
    expect((await call('DELETE', '/pipelines/show/A')).status).toBe(200);
    expect((await call('DELETE', '/pipelines/show/B')).status).toBe(200);
    await waitGone(sourcePid);
    expect(agent.list()).toEqual([]);
  });

  it('runs no source for an event that is not a test event, and restarts a bridge that dies', async () => {
    const live = def({ id: 'venue', test: false, captions: [] });
    expect((await call('POST', '/pipelines', { spec: spec('A', live) })).status).toBe(201);
    const rec = await readRecord('bridge-A.json');
    expect(rec.env.BRIDGE_CC1_LANGUAGE).toBeUndefined();
    const [running] = agent.list();
    expect(running.syntheticSource).toBeNull();
    process.kill(running.pid!, 'SIGKILL');
    for (let i = 0; i < 100 && agent.list()[0].restarts === 0; i++) await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 100 && agent.list()[0].pid === null; i++) await new Promise((r) => setTimeout(r, 50));
    expect(agent.list()[0].restarts).toBe(1);
    expect(agent.list()[0].pid).not.toBe(running.pid);
    expect(agent.list()[0].port).toBe(running.port);
  });

  it("is what the hub's local provisioner talks to", async () => {
    const provisioner = localProvisioner({ url: base, token: TOKEN });
    await provisioner.start(spec('A'));
    expect(await provisioner.running()).toEqual([{ event: 'show', pipeline: 'A' }]);
    await provisioner.stop('show', 'A');
    await provisioner.stop('show', 'A'); // not running: fine
    expect(await provisioner.running()).toEqual([]);

    const wrongToken = localProvisioner({ url: base, token: 'wrong' });
    await expect(wrongToken.start(spec('A'))).rejects.toMatchObject({ code: 'PROVISIONER_FAILED' });
    const nobody = localProvisioner({ url: 'http://127.0.0.1:1', token: TOKEN, timeoutMs: 2000 });
    const err = await nobody.running().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('PROVISIONER_FAILED');
  });
});
