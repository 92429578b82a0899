import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { ensureSystemPackages } from './system-packages.ts';
import { startWranglerDev, type WranglerDev } from '../test/wrangler-dev.ts';

/**
 * `npm start`: the whole local pipeline with a synthetic live event.
 * wrangler dev (edge Worker + origin Durable Objects) on http://localhost:8787, two redundant
 * encoder bridges (pipelines A and B, started a few seconds apart, never talking to each other)
 * for event "demo", the synthetic venue source feeding both (with English CEA-608 captions in its
 * video), and a synthetic live captioner (Spanish).
 * Ctrl-C stops everything this started.
 */
const PORT = Number(process.env.PORT ?? 8787);
/** DEMO_DRM=cenc|cbcs: package the demo event encrypted (docs/drm.md); it gets its own id, demo-cenc or demo-cbcs. */
const DEMO_DRM = process.env.DEMO_DRM;
if (DEMO_DRM !== undefined && DEMO_DRM !== 'cenc' && DEMO_DRM !== 'cbcs') {
  console.error(`DEMO_DRM must be cenc or cbcs, not "${DEMO_DRM}"`);
  process.exit(1);
}
const EVENT = process.env.DEMO_EVENT ?? (DEMO_DRM ? `demo-${DEMO_DRM}` : 'demo');
const BRIDGE_PORT = Number(process.env.BRIDGE_PORT ?? 9001);
/** Pipelines to run, in order; bridge i listens on BRIDGE_PORT + i. */
const PIPELINES = (process.env.PIPELINES ?? 'A,B').split(',');

const log = (message: string) => console.log(`${new Date().toISOString()} [start] ${message}`);
const children: ChildProcess[] = [];
let worker: WranglerDev | undefined;
let stopping = false;

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('stopping…');
  for (const child of children) {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  }
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

log(`starting wrangler dev on http://localhost:${PORT} (state in .wrangler/state)`);
try {
  worker = await startWranglerDev({ port: PORT, persistTo: '.wrangler/state', inheritOutput: true });
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}

/** DRM demo: a player token for the event (24 h), passed to the player page. */
let playerToken: string | undefined;
if (DEMO_DRM) {
  // Before any bridge publishes: the first init is packaged under the event's DRM setting.
  const res = await fetch(`${worker.url}/api/events/${EVENT}/drm`, {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${process.env.OPERATOR_TOKEN ?? 'dev-operator-token'}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ drm: { scheme: DEMO_DRM } }),
  });
  if (!res.ok) {
    console.error(`setting DRM ${DEMO_DRM} on event ${EVENT} failed: ${res.status} ${await res.text()}`);
    await shutdown(1);
  }
  // Keys only go to entitled players (docs/player-tokens.md): the player URL below carries a
  // player token minted by the Worker's operator API; the page itself never sees the operator token.
  const minted = await fetch(`${worker.url}/api/events/${EVENT}/player-tokens`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${process.env.OPERATOR_TOKEN ?? 'dev-operator-token'}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ ttlSeconds: 24 * 3600 }),
  });
  if (!minted.ok) {
    console.error(`minting a player token for ${EVENT} failed: ${minted.status} ${await minted.text()}`);
    await shutdown(1);
  }
  playerToken = ((await minted.json()) as { token: string }).token;
  log(
    `event ${EVENT} is encrypted with ${DEMO_DRM}; ClearKey licenses (player token required): http://localhost:${PORT}/drm/clearkey/${EVENT} (development keys: docs/drm.md)`,
  );
}

const feeds = PIPELINES.map((_, i) => `http://127.0.0.1:${BRIDGE_PORT + i}/feed`);
// The source carries English as CEA-608 on CC1 in its video; every bridge extracts it and posts
// the cues (docs/captions.md "CEA-608 from the contribution feed").
supervise('synthetic source', ['encoder-bridge/synthetic-source.ts', '--push', feeds.join(','), '--cc608', 'on']);
for (const [i, pipeline] of PIPELINES.entries()) {
  // Later pipelines start a few seconds late on purpose: epoch locking makes them join with the
  // same segment numbers and timestamps anyway.
  if (i > 0) await new Promise((r) => setTimeout(r, 3000));
  supervise(`encoder bridge ${pipeline}`, [
    'encoder-bridge/main.ts',
    '--event',
    EVENT,
    '--pipeline',
    pipeline,
    '--listen-port',
    String(BRIDGE_PORT + i),
    '--ingest-url',
    worker.url,
    '--cc1-language',
    'en',
  ]);
  log(`bridge ${pipeline} status: http://127.0.0.1:${BRIDGE_PORT + i}/status`);
}

// A live captioner: declares English and Spanish captions once the event exists, then posts a
// Spanish cue every 2 s naming the UTC time (the clock burnt into the picture) through the
// captions API. English comes from the video's CC1.
supervise('synthetic captioner', [
  'encoder-bridge/synthetic-captions.ts',
  '--url',
  worker.url,
  '--event',
  EVENT,
  '--post',
  'es',
]);

log(`DASH manifest:  http://localhost:${PORT}/live/${EVENT}/index.mpd`);
log(`HLS playlist:   http://localhost:${PORT}/live/${EVENT}/index.m3u8`);
const tokenQuery = playerToken ? `&token=${encodeURIComponent(playerToken)}` : '';
log(
  `▶ player:       http://localhost:${PORT}/?event=${EVENT}${tokenQuery}  (dash.js; add &player=hls for hls.js, &captions=es|off for captions) — first segments appear after about 6 s`,
);
log('press Ctrl-C to stop');
