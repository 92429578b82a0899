/**
 * The edge shield in front of the origin (docs/edge-shield.md), on the real Worker in workerd:
 * many players asking for one object reach the origin once per isolate (counted by the origin
 * itself), also while the origin holds a live-edge segment open; answers say where they came
 * from; a version bump reaches players within one manifest TTL.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultEventConfig } from '../contract/event-config.ts';
import { DEV_OPERATOR_TOKEN, ingestPut, randomEventId } from '../test/ingest-client.ts';
import { liveK, loadMedia, type Media, segmentFor } from '../test/media.ts';

const url = inject('workerUrl');
const { segmentDurationMs: D, pipelineDelayMs } = defaultEventConfig;
const PLAYERS = 200;
let video: Media;
beforeAll(async () => {
  video = await loadMedia({ kind: 'video' });
});

const operator = { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function newEvent(): Promise<string> {
  const event = randomEventId('shield');
  expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init)).status).toBe(201);
  return event;
}

/** How many player requests for segment K of v1 reached the origin object (its own count). */
async function originRequests(event: string, k: number): Promise<number> {
  const res = await fetch(`${url}/api/events/${event}/state`, { headers: operator });
  const state = (await res.json()) as { segmentRequests: { bySegment: Record<string, number> } };
  return state.segmentRequests.bySegment[`v1/${k}`] ?? 0;
}

async function everyone(path: string): Promise<{ status: number; bytes: string; cache: string | null }[]> {
  return Promise.all(
    Array.from({ length: PLAYERS }, async () => {
      const res = await fetch(`${url}${path}`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      return {
        status: res.status,
        bytes: `${bytes.byteLength}:${bytes[bytes.length - 1]}`,
        cache: res.headers.get('x-cache'),
      };
    }),
  );
}

describe('coalescing: one origin request per (track, K) per isolate', () => {
  it(`${PLAYERS} players asking for one stored segment at once`, async () => {
    const event = await newEvent();
    const k = liveK(D) - 3;
    const segment = segmentFor(video, k, D);
    expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, segment)).status).toBe(201);
    const answers = await everyone(`/live/${event}/v1/${k}.m4s`);
    expect(answers.every((a) => a.status === 200 && a.bytes === `${segment.byteLength}:${segment.at(-1)}`)).toBe(true);
    expect(answers.filter((a) => a.cache === 'origin')).toHaveLength(1);
    expect(await originRequests(event, k)).toBe(1);
    // And later players are answered from the edge too.
    const later = await fetch(`${url}/live/${event}/v1/${k}.m4s`);
    expect(later.headers.get('x-cache')).toBe('hot');
    expect(later.headers.get('x-ttl-ms')).toBe('86400000');
    expect(await originRequests(event, k)).toBe(1);
  });

  it(`${PLAYERS} players asking for the next live-edge segment while the origin holds it open`, async () => {
    const event = await newEvent();
    const k = Math.ceil((Date.now() - pipelineDelayMs) / D) - 1;
    const segment = segmentFor(video, k, D);
    const waiting = everyone(`/live/${event}/v1/${k}.m4s`);
    await sleep(300);
    expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, segment)).status).toBe(201);
    const answers = await waiting;
    expect(answers.map((a) => a.status)).toEqual(Array(PLAYERS).fill(200));
    expect(await originRequests(event, k)).toBe(1);
  });

  it('a 404 for a segment not yet due is kept only until just before it is due', async () => {
    const event = await newEvent();
    const k = liveK(D) + 5;
    const first = await fetch(`${url}/live/${event}/v1/${k}.m4s`);
    expect(first.status).toBe(404);
    const ttl = Number(first.headers.get('x-ttl-ms'));
    const dueIn = (k + 1) * D + pipelineDelayMs - Date.now();
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(dueIn - 500 + 50);
    const again = await fetch(`${url}/live/${event}/v1/${k}.m4s`);
    expect(again.headers.get('x-cache')).toBe('hot');
    expect(await originRequests(event, k)).toBe(1);
  });
});

describe('version bump', () => {
  it('a player sees a new version within one manifest TTL, and kept segments are bypassed', async () => {
    const event = await newEvent();
    const k = liveK(D) - 3;
    expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, segmentFor(video, k, D))).status).toBe(201);
    const before = await fetch(`${url}/live/${event}/index.mpd`);
    const etagBefore = before.headers.get('etag');
    expect((await fetch(`${url}/live/${event}/v1/${k}.m4s`)).headers.get('etag')).toMatch(/^"v1-/);
    // Bumped straight at the origin objects, as another isolate's operator call would: this
    // isolate's edge hears of it only from the next manifest it fetches.
    const home = env.EVENT_ORIGIN.get(env.EVENT_ORIGIN.idFromName(`${event}:r1`));
    expect(await home.bumpVersion()).toEqual({ ok: true, value: { version: 2 } });
    expect((await fetch(`${url}/live/${event}/index.mpd`)).headers.get('etag')).toBe(etagBefore);
    await sleep(D / 2 + 50);
    const after = await fetch(`${url}/live/${event}/index.mpd`);
    expect(after.headers.get('etag')).not.toBe(etagBefore);
    expect(after.headers.get('x-event-state')).toMatch(/^v=2/);
    const seg = await fetch(`${url}/live/${event}/v1/${k}.m4s`);
    expect(seg.headers.get('etag')).toMatch(/^"v2-/);
    expect(seg.headers.get('x-cache')).toBe('origin');
  });
});
