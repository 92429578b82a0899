/**
 * Operator candidate fetch against a real `wrangler dev`: `?pipeline=B[&region=r1]` on a segment
 * or init answers exactly that stored copy (selection and masks bypassed), only with the
 * operator token.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { loadMedia as encodeMedia, liveK, segmentFor, type Media } from '../test/media.ts';
import {
  DEV_OPERATOR_TOKEN,
  devToken,
  ensureEvent,
  getBytes,
  ingestPut,
  randomEventId,
} from '../test/ingest-client.ts';

const url = inject('workerUrl');
const D = 2000;
const operator = { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` };
let video: Media;
beforeAll(async () => {
  video = await encodeMedia({ kind: 'video' });
});

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

/** Pipeline A stores a clean K, pipeline B a short one. */
async function twoPipelines() {
  const event = randomEventId();
  const k = liveK(D) - 3;
  const a = segmentFor(video, k, D);
  const b = segmentFor(video, k, D, { keepSamples: 30 });
  // Published to r1 only: r2's origin never hears of the event.
  await ensureEvent(url, event, { regions: ['r1'] });
  for (const p of ['A', 'B']) expect((await ingestPut(url, `${event}/${p}/v1/init.mp4`, video.init)).status).toBe(201);
  expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, a)).status).toBe(201);
  expect((await ingestPut(url, `${event}/B/v1/${k}.m4s`, b)).status).toBe(201);
  return { event, k, a, b, seg: `${url}/live/${event}/v1/${k}.m4s` };
}

describe('operator candidate fetch', () => {
  it('answers exactly the stored candidate of the named pipeline, with x-candidate', async () => {
    const { seg, a, b } = await twoPipelines();
    const picked = await getBytes(`${seg}?pipeline=B`, { headers: operator });
    expect(picked.res.status).toBe(200);
    expect(same(picked.bytes, b)).toBe(true);
    expect(picked.res.headers.get('x-candidate')).toBe('pipeline=B; region=r1; defects=short');
    expect(picked.res.headers.get('cache-control')).toBe('private, no-store');
    const withRegion = await getBytes(`${seg}?pipeline=A&region=r1`, { headers: operator });
    expect(withRegion.res.headers.get('x-candidate')).toBe('pipeline=A; region=r1; defects=none');
    expect(same(withRegion.bytes, a)).toBe(true);
    // Without the query the player path still selects (A is clean and preferred).
    const selected = await getBytes(seg);
    expect(same(selected.bytes, a)).toBe(true);
    expect(selected.res.headers.get('cache-control')).toBe('public, max-age=86400, immutable');
  });

  it('answers 404 when that pipeline or region has no candidate', async () => {
    const { seg, event, k } = await twoPipelines();
    // Region r2's origin never received this event (published to r1 only); r9 is no region of ours.
    for (const [q, status, expected] of [
      ['pipeline=C', 404, 'CANDIDATE_NOT_FOUND'],
      ['pipeline=A&region=r2', 404, 'EVENT_NOT_FOUND'],
      ['pipeline=A&region=r9', 400, 'BAD_QUERY'],
    ] as const) {
      const res = await fetch(`${seg}?${q}`, { headers: operator });
      expect(res.status, q).toBe(status);
      expect(await code(res)).toBe(expected);
    }
    expect((await fetch(`${url}/live/${event}/v1/${k + 1000}.m4s?pipeline=A`, { headers: operator })).status).toBe(404);
  });

  it('requires the operator bearer token: 401 without, 403 with a wrong one', async () => {
    const { seg, event } = await twoPipelines();
    const none = await fetch(`${seg}?pipeline=B`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(
      (
        await fetch(`${seg}?pipeline=B`, {
          headers: { authorization: `Bearer ${await devToken('ingest', event, 'B')}` },
        })
      ).status,
    ).toBe(403);
    expect((await fetch(`${seg}?pipeline=B`, { headers: { authorization: 'Basic eDp5' } })).status).toBe(401);
  });

  it('rejects a malformed query with 400 BAD_QUERY', async () => {
    const { seg } = await twoPipelines();
    for (const q of ['pipeline=b', 'pipeline=AB', 'region=r1', 'pipeline=A&region=R_1']) {
      const res = await fetch(`${seg}?${q}`, { headers: operator });
      expect(res.status, q).toBe(400);
      expect(await code(res)).toBe('BAD_QUERY');
    }
  });

  it("fetches a pipeline's init the same way", async () => {
    const { event } = await twoPipelines();
    const init = await getBytes(`${url}/live/${event}/v1/init.mp4?pipeline=B`, { headers: operator });
    expect(init.res.status).toBe(200);
    expect(same(init.bytes, video.init)).toBe(true);
    expect(init.res.headers.get('x-candidate')).toBe('pipeline=B; region=r1; defects=none');
    expect((await fetch(`${url}/live/${event}/v1/init.mp4?pipeline=C`, { headers: operator })).status).toBe(404);
    expect((await fetch(`${url}/live/${event}/v1/init.mp4?pipeline=B`)).status).toBe(401);
  });

  it('allows Authorization in a cross-origin preflight', async () => {
    const res = await fetch(`${url}/live/e/v1/1.m4s?pipeline=B`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://control.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
  });
});
