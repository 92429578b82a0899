/**
 * Persistence: stopping and restarting `wrangler dev` with the same --persist-to in the middle of
 * a live event loses no published segment, keeps the operator state (version, masks), and the
 * manifests resume with new segments once the bridge's publishes get through again.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_OPERATOR_TOKEN } from './ingest-client.ts';
import { startLiveEvent, waitFor, type LiveEvent } from './live-event.ts';
import { freePort, startWranglerDev, type WranglerDev } from './wrangler-dev.ts';

const event = `persist-${Date.now().toString(36)}`;
const operator = { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` };
const sha = (b: ArrayBuffer) => createHash('sha256').update(new Uint8Array(b)).digest('hex');
let stateDir: string;
let port: number;
let dev: WranglerDev | undefined;
let live: LiveEvent | undefined;
let url: string;

const listed = async (track: string) => {
  const text = await (await fetch(`${url}/live/${event}/${track}/index.m3u8`)).text();
  return [...text.matchAll(/^(\d+)\.m4s$/gm)].map((m) => Number(m[1]));
};

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'persist-state-'));
  port = await freePort();
  dev = await startWranglerDev({ port, persistTo: stateDir });
  url = dev.url;
  live = await startLiveEvent({ workerUrl: url, event, ladder: 'tiny', size: '640x360' });
  await waitFor(
    async () => (await listed('v234')).length >= 4 && (await listed('aen')).length >= 4,
    60_000,
    'four published segments per track',
  );
}, 120_000);

afterAll(async () => {
  await live?.stop();
  await dev?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

describe('restarting wrangler dev mid-event with the same --persist-to', () => {
  it('keeps every published segment byte-identical, keeps operator state, and the manifests resume', async () => {
    expect((await fetch(`${url}/api/events/${event}/version`, { method: 'POST', headers: operator })).status).toBe(200);
    const before = new Map<string, string>();
    for (const track of ['v234', 'aen']) {
      for (const k of await listed(track))
        before.set(`${track}/${k}`, sha(await (await fetch(`${url}/live/${event}/${track}/${k}.m4s`)).arrayBuffer()));
    }
    const lastBefore = Math.max(...(await listed('v234')));

    await dev!.stop();
    const downFor = 3000;
    await new Promise((r) => setTimeout(r, downFor));
    dev = await startWranglerDev({ port, persistTo: stateDir });

    for (const [key, hash] of before) {
      const res = await fetch(`${url}/live/${event}/${key}.m4s`);
      expect(res.status, key).toBe(200);
      expect(sha(await res.arrayBuffer()), key).toBe(hash);
    }
    const state = (await (await fetch(`${url}/api/events/${event}/state`, { headers: operator })).json()) as {
      version: number;
      pipelines: { pipeline: string; segments: number }[];
    };
    expect(state.version).toBe(2);
    expect(state.pipelines[0].segments).toBeGreaterThanOrEqual(before.size);
    // The bridge keeps publishing into the restarted Worker: new segments appear in the playlists.
    await waitFor(
      async () => (await listed('v234')).some((k) => k > lastBefore + 2),
      30_000,
      'segments published after the restart',
    );
    const mpd = await (await fetch(`${url}/live/${event}/index.mpd`)).text();
    expect(mpd).toMatch(/type="dynamic"/);
    console.log(
      `persistence: ${before.size} segments kept across a ${downFor / 1000} s restart; playlist now ends at ${Math.max(...(await listed('v234')))} (was ${lastBefore})`,
    );
  }, 120_000);
});
