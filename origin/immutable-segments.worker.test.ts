/**
 * One URL, one set of bytes (issue 10): once a clean copy of segment K was served with the long
 * TTL, it stays the answer for K under the event's version — a copy from the preferred pipeline
 * arriving late does not displace it — until an operator bumps the version. Replacement by the
 * same pipeline is refused (edge/ingest-route.worker.test.ts).
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultEventConfig } from '../contract/event-config.ts';
import { DEV_OPERATOR_TOKEN, ingestPut, randomEventId } from '../test/ingest-client.ts';
import { loadMedia, liveK, type Media, segmentFor } from '../test/media.ts';
import type { EventOrigin } from './event-origin.ts';
import { unwrap } from './result.ts';

const url = inject('workerUrl');
const { segmentDurationMs: D } = defaultEventConfig;
let video: Media;
beforeAll(async () => {
  video = await loadMedia({ kind: 'video' });
});

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
/** Straight from the origin object (what every edge in front of it is answered), not through an edge cache. */
const originGet = async (event: string, k: number) => {
  const origin = env.EVENT_ORIGIN.get(env.EVENT_ORIGIN.idFromName(`${event}:r1`)) as DurableObjectStub<EventOrigin>;
  return unwrap(await origin.getSegment('v1', k, 'r1'));
};

describe('a served segment keeps its bytes', () => {
  it('stays the copy served when the preferred pipeline delivers late; a version bump moves to the preferred one', async () => {
    const event = randomEventId('imm');
    for (const p of ['A', 'B'])
      expect((await ingestPut(url, `${event}/${p}/v1/init.mp4`, video.init)).status).toBe(201);
    const k = liveK(D) - 3;
    // Different (both clean) bytes per pipeline, so the test can tell which one is served.
    const fromA = segmentFor(video, k, D, { tfdtShift: 1 });
    const fromB = segmentFor(video, k, D);
    expect((await ingestPut(url, `${event}/B/v1/${k}.m4s`, fromB)).status).toBe(201);
    const first = await originGet(event, k);
    expect(first.candidate).toEqual({ pipeline: 'B', region: 'r1', defects: [] });
    expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, fromA)).status).toBe(201);
    const later = await originGet(event, k);
    expect(later.candidate.pipeline).toBe('B');
    expect(same(later.bytes, fromB)).toBe(true);
    expect(later.sha256).toBe(first.sha256);
    // A segment nobody was served yet follows the preference order as before.
    expect((await ingestPut(url, `${event}/B/v1/${k + 1}.m4s`, segmentFor(video, k + 1, D))).status).toBe(201);
    expect((await ingestPut(url, `${event}/A/v1/${k + 1}.m4s`, segmentFor(video, k + 1, D))).status).toBe(201);
    expect((await originGet(event, k + 1)).candidate.pipeline).toBe('A');
    const bump = await fetch(`${url}/api/events/${event}/version`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` },
    });
    expect(bump.status).toBe(200);
    const after = await originGet(event, k);
    expect(after).toMatchObject({ version: 2, candidate: { pipeline: 'A', region: 'r1', defects: [] } });
    expect(same(after.bytes, fromA)).toBe(true);
  });
});
