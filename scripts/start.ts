import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { DEMO_CAPTIONS } from '../encoder-bridge/synthetic-captions.ts';
import { DEV_PROVISIONER_TOKEN } from '../orchestrator/provisioner-select.ts';
import { startWranglerDev, type WranglerDev } from '../test/wrangler-dev.ts';
import { ProvisionAgent } from './provision-agent.ts';
import { ensureSystemPackages } from './system-packages.ts';

/**
 * `npm start`: the whole local pipeline with a synthetic live event, run by the control plane.
 * wrangler dev (edge Worker, origin and hub Durable Objects) on http://localhost:8787 with
 * PROVISIONER=local, the provision agent (scripts/provision-agent.ts) on 127.0.0.1:8790, and a
 * synthetic live captioner (Spanish). The demo event is created through the control API
 * (`POST /api/events`, a test event starting now); the hub then asks the agent for pipelines A and
 * B, and the agent starts the two encoder bridges and the synthetic venue source feeding both
 * (with English CEA-608 captions in its video). Ctrl-C stops the event's pipelines and everything
 * this started.
 */
const PORT = Number(process.env.PORT ?? 8787);
/** DEMO_DRM=cenc|cbcs: package the demo event encrypted (docs/drm.md); it gets its own id, demo-cenc or demo-cbcs. */
const DEMO_DRM = process.env.DEMO_DRM;
if (DEMO_DRM !== undefined && DEMO_DRM !== 'cenc' && DEMO_DRM !== 'cbcs') {
  console.error(`DEMO_DRM must be cenc or cbcs, not "${DEMO_DRM}"`);
  process.exit(1);
}
const EVENT = process.env.DEMO_EVENT ?? (DEMO_DRM ? `demo-${DEMO_DRM}` : 'demo');
/** First listen port the agent hands to bridges (A gets it, B the next free one). */
const BRIDGE_PORT = Number(process.env.BRIDGE_PORT ?? 9001);
/** The provision agent's port (PROVISIONER_URL of the Worker). */
const AGENT_PORT = Number(process.env.PROVISION_AGENT_PORT ?? 8790);
/** The demo's audio languages, comma separated (the control API validates them: up to 8 BCP 47 tags). */
const DEMO_AUDIO_LANGUAGES = (process.env.DEMO_AUDIO_LANGUAGES ?? 'en,es').split(',');
/** The event's pipelines, in preference order. */
const PIPELINES = (process.env.PIPELINES ?? 'A,B').split(',');
const OPERATOR_TOKEN = process.env.OPERATOR_TOKEN ?? 'dev-operator-token';

const log = (message: string) => console.log(`${new Date().toISOString()} [start] ${message}`);
const children: ChildProcess[] = [];
let worker: WranglerDev | undefined;
let agent: ProvisionAgent | undefined;
let stopping = false;

/** The control API with the operator token. */
function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`http://127.0.0.1:${PORT}${path}`, {
    method,
    headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
}

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('stopping…');
  // The hub stops wanting the pipelines (so a later `npm start` starts them again cleanly).
  if (worker) await api('POST', `/api/events/${EVENT}/operations`, { op: 'stop' }).catch(() => undefined);
  for (const child of children) {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await agent?.close().catch(() => undefined);
  await worker?.stop();
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

/** Start a Node helper in its own process group; restart it if it dies while we are running. */
function supervise(name: string, args: string[]): void {
  const run = () => {
    const child = spawn(process.execPath, args, { stdio: 'inherit', detached: true });
    children.push(child);
    child.on('exit', (code, signal) => {
      children.splice(children.indexOf(child), 1);
      if (stopping) return;
      log(`${name} exited (code ${code}, signal ${signal}); restarting in 1 s`);
      setTimeout(run, 1000);
    });
  };
  run();
}

ensureSystemPackages();
const vendor = spawnSync(process.execPath, ['scripts/vendor-players.ts'], { stdio: 'inherit' });
if (vendor.status !== 0) process.exit(vendor.status ?? 1);

const workerUrl = `http://127.0.0.1:${PORT}`;
agent = new ProvisionAgent({
  token: process.env.PROVISIONER_TOKEN ?? DEV_PROVISIONER_TOKEN,
  ingestUrl: workerUrl,
  basePort: BRIDGE_PORT,
});
try {
  await agent.listen(AGENT_PORT);
} catch (err) {
  console.error(`the provision agent cannot listen on 127.0.0.1:${AGENT_PORT}: ${(err as Error).message}`);
  process.exit(1);
}
log(`provision agent on http://127.0.0.1:${AGENT_PORT} (GET /pipelines lists the bridges it runs)`);

log(`starting wrangler dev on http://localhost:${PORT} (state in .wrangler/state; PROVISIONER=local)`);
try {
  worker = await startWranglerDev({
    port: PORT,
    persistTo: '.wrangler/state',
    inheritOutput: true,
    extraArgs: ['--var', 'PROVISIONER:local', '--var', `PROVISIONER_URL:http://127.0.0.1:${AGENT_PORT}`],
  });
} catch (err) {
  console.error((err as Error).message);
  await shutdown(1);
}

// The demo event, created through the control API: the hub provisions A and B through the agent
// at its start (now, no lead), with the settings of this definition, so both are identical.
const definition = {
  id: EVENT,
  title: DEMO_DRM ? `Demo (${DEMO_DRM})` : 'Demo',
  ladder: 'local',
  // Audio languages, each a test tone of its own (en 440, es 660, fr 880, de 1100 Hz; the source's
  // --audio-languages): the player page's Audio menu switches between them. Two by default, which
  // keeps two pipelines' ingest light on 2 cores; DEMO_AUDIO_LANGUAGES=en,es,fr,de for four.
  audioLanguages: DEMO_AUDIO_LANGUAGES,
  // English rides as CEA-608 CC1 in the synthetic source's video (the default caption track is the
  // one bridges extract, docs/control-plane.md); Spanish comes from the synthetic captioner below.
  captions: DEMO_CAPTIONS,
  pipelines: PIPELINES,
  test: true,
  schedule: { start: new Date().toISOString(), leadSeconds: 0 },
  ...(DEMO_DRM ? { drm: { scheme: DEMO_DRM } } : {}),
};
const created = await api('POST', '/api/events', definition);
if (created.status === 409) {
  // Kept from an earlier run in .wrangler/state: start it again (a running pipeline stays as it is).
  const again = await api('POST', `/api/events/${EVENT}/operations`, { op: 'start' });
  if (!again.ok) {
    console.error(
      `event ${EVENT} exists in .wrangler/state but cannot start: ${again.status} ${await again.text()}
` + 'an ended event stays ended: set DEMO_EVENT=<new id> or remove .wrangler/state',
    );
    await shutdown(1);
  }
  log(`event ${EVENT} exists (.wrangler/state): asked the hub to start it again`);
} else if (!created.ok) {
  console.error(`creating event ${EVENT} failed: ${created.status} ${await created.text()}`);
  await shutdown(1);
} else {
  log(`created event ${EVENT} (POST /api/events); the hub provisions ${PIPELINES.join(' and ')} through the agent`);
}

/** DRM demo: a player token for the event (24 h), passed to the player page. */
let playerToken: string | undefined;
if (DEMO_DRM) {
  // Keys only go to entitled players (docs/player-tokens.md): the player URL below carries a
  // player token minted by the Worker's operator API; the page itself never sees the operator token.
  const minted = await api('POST', `/api/events/${EVENT}/player-tokens`, { ttlSeconds: 24 * 3600 });
  if (!minted.ok) {
    console.error(`minting a player token for ${EVENT} failed: ${minted.status} ${await minted.text()}`);
    await shutdown(1);
  }
  playerToken = ((await minted.json()) as { token: string }).token;
  log(
    `event ${EVENT} is encrypted with ${DEMO_DRM}; ClearKey licenses (player token required): http://localhost:${PORT}/drm/clearkey/${EVENT} (development keys: docs/drm.md)`,
  );
}

// The bridges' status pages, once the hub has asked for them.
for (let i = 0; i < 60 && agent.list().filter((p) => p.event === EVENT).length < PIPELINES.length; i++)
  await new Promise((r) => setTimeout(r, 250));
for (const p of agent.list().filter((p) => p.event === EVENT)) log(`bridge ${p.pipeline} status: ${p.statusUrl}`);
if (agent.list().filter((p) => p.event === EVENT).length < PIPELINES.length)
  log(`the hub has not started every pipeline yet: see the timeline, GET /api/events/${EVENT}/timeline`);

// A live captioner: declares English and Spanish captions once the event exists, then posts a
// Spanish cue every 2 s naming the UTC time (the clock burnt into the picture) through the
// captions API. English comes from the video's CC1. The event already declares both (its definition).
supervise('synthetic captioner', [
  'encoder-bridge/synthetic-captions.ts',
  '--url',
  workerUrl,
  '--event',
  EVENT,
  '--post',
  'es',
]);

log(`DASH manifest:  http://localhost:${PORT}/live/${EVENT}/index.mpd`);
log(`HLS playlist:   http://localhost:${PORT}/live/${EVENT}/index.m3u8`);
const tokenQuery = playerToken ? `&token=${encodeURIComponent(playerToken)}` : '';
log(
  `▶ player:       http://localhost:${PORT}/?event=${EVENT}${tokenQuery}  (dash.js; add &player=hls for hls.js, &captions=es|off for captions, &audio=es for Spanish sound) — first segments appear after about 6 s`,
);
log(`▶ Control Room: http://localhost:${PORT}/control/  (operator login; the token is OPERATOR_TOKEN of .dev.vars)`);
log('press Ctrl-C to stop');
