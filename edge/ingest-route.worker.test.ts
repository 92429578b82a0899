/**
 * The ingest route against a real `wrangler dev` (test/global-setup.ts) with real ffmpeg media.
 * Every rejection is followed by reading back what was stored before: a bad request must change
 * nothing.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { MAX_INIT_BYTES } from '../contract/ingest.ts';
import { loadMedia as encodeMedia, liveK, segmentFor, type Media } from '../test/media.ts';
import { DEV_OPERATOR_TOKEN, getBytes, ingestPut, ingestTokenFor, randomEventId } from '../test/ingest-client.ts';

const url = inject('workerUrl');
const D = 2000;
let video: Media;
let audio: Media;

beforeAll(async () => {
  [video, audio] = await Promise.all([encodeMedia({ kind: 'video' }), encodeMedia({ kind: 'audio' })]);
});

/** An event with pipeline A's init and segment K of track v1 stored. */
async function storedEvent() {
  const event = randomEventId();
  const k = liveK(D) - 3;
  const segment = segmentFor(video, k, D);
  expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init)).status).toBe(201);
  expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, segment)).status).toBe(201);
  const expectUnchanged = async () => {
    const init = await getBytes(`${url}/live/${event}/v1/init.mp4`);
    expect(init.res.status).toBe(200);
    expect(Buffer.from(init.bytes).equals(Buffer.from(video.init))).toBe(true);
    const seg = await getBytes(`${url}/live/${event}/v1/${k}.m4s`);
    expect(seg.res.status).toBe(200);
    expect(Buffer.from(seg.bytes).equals(Buffer.from(segment))).toBe(true);
  };
  return { event, k, segment, expectUnchanged };
}

async function errorOf(res: Response) {
  const body = (await res.json()) as { error: { code: string; id: number; message: string } };
  return { status: res.status, ...body.error };
}

describe('ingest: stores and is idempotent', () => {
  it('201 on first store, 204 on identical retry (init and segment)', async () => {
    const { event, k, segment, expectUnchanged } = await storedEvent();
    expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init)).status).toBe(204);
    const retry = await ingestPut(url, `${event}/A/v1/${k}.m4s`, segment);
    expect(retry.status).toBe(204);
    expect(retry.headers.get('x-segment-defects')).toBe('none');
    await expectUnchanged();
  });

  it('replaces a stored segment with different bytes (201) only until players were served it as immutable', async () => {
    const { event, k, segment } = await storedEvent();
    // Not served yet: a republish after a local fix wins.
    const fixed = segmentFor(video, k, D, { tfdtShift: 1 });
    expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, fixed)).status).toBe(201);
    const served = await getBytes(`${url}/live/${event}/v1/${k}.m4s`);
    expect(served.res.headers.get('cache-control')).toBe('public, max-age=86400, immutable');
    expect(Buffer.from(served.bytes).equals(Buffer.from(fixed))).toBe(true);
    // Served with a day's TTL: different bytes under the same URL are refused, the stored copy stays.
    const late = await errorOf(await ingestPut(url, `${event}/A/v1/${k}.m4s`, segment));
    expect(late).toMatchObject({ status: 409, code: 'SEGMENT_IMMUTABLE' });
    expect(late.message).toMatch(/bump the event version/);
    expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, fixed)).status).toBe(204);
    const again = await getBytes(`${url}/live/${event}/v1/${k}.m4s`);
    expect(Buffer.from(again.bytes).equals(Buffer.from(fixed))).toBe(true);
    // A correction: the operator bumps the version (every ETag and cache key changes), then republishes.
    const bump = await fetch(`${url}/api/events/${event}/version`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` },
    });
    expect(bump.status).toBe(200);
    expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, segment)).status).toBe(201);
    const corrected = await getBytes(`${url}/live/${event}/v1/${k}.m4s`);
    expect(corrected.res.headers.get('etag')).toMatch(/^"v2-/);
    expect(Buffer.from(corrected.bytes).equals(Buffer.from(segment))).toBe(true);
  });

  it('replaces a defective copy that was served (never kept) with a clean one, which players get next', async () => {
    const event = randomEventId();
    const k = liveK(D) - 3;
    expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init)).status).toBe(201);
    const short = segmentFor(video, k, D, { keepSamples: 30 });
    expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, short)).status).toBe(201);
    const first = await fetch(`${url}/live/${event}/v1/${k}.m4s`);
    expect(first.headers.get('cache-control')).toBe('no-store');
    await first.arrayBuffer();
    expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, segmentFor(video, k, D))).status).toBe(201);
    const stored = await fetch(`${url}/live/${event}/v1/${k}.m4s?pipeline=A`, {
      headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` },
    });
    expect(stored.headers.get('x-candidate')).toBe('pipeline=A; region=r1; defects=none');
    const next = await fetch(`${url}/live/${event}/v1/${k}.m4s`);
    expect(next.headers.get('x-candidate')).toBe('pipeline=A; region=r1; defects=none');
  });

  it('stores audio with its media type', async () => {
    const event = randomEventId();
    const k = liveK(D) - 2;
    expect(
      (
        await ingestPut(url, `${event}/A/aen/init.mp4`, audio.init, {
          contentType: 'audio/mp4',
          meta: { bandwidth: 96_000, language: 'en', label: 'English' },
        })
      ).status,
    ).toBe(201);
    expect(
      (await ingestPut(url, `${event}/A/aen/${k}.m4s`, segmentFor(audio, k, D), { contentType: 'audio/mp4' })).status,
    ).toBe(201);
    const seg = await fetch(`${url}/live/${event}/aen/${k}.m4s`);
    expect(seg.status).toBe(200);
    expect(seg.headers.get('content-type')).toBe('audio/mp4');
    expect(seg.headers.get('x-candidate')).toBe('pipeline=A; region=r1; defects=none');
  });
});

describe('ingest: every rejection, and nothing stored changes', () => {
  it('401 without Authorization or with another scheme', async () => {
    const { event, k, expectUnchanged } = await storedEvent();
    const none = await ingestPut(url, `${event}/A/v1/${k}.m4s`, segmentFor(video, k + 1, D), { token: null });
    expect(await errorOf(none)).toMatchObject({ status: 401, code: 'UNAUTHORIZED', id: 1002 });
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const basic = await ingestPut(url, `${event}/A/v1/init.mp4`, audio.init, {
      token: null,
      headers: { authorization: 'Basic ZGV2OmRldg==' },
    });
    expect(basic.status).toBe(401);
    await expectUnchanged();
  });

  it('403 with a wrong token', async () => {
    const { event, k, expectUnchanged } = await storedEvent();
    const res = await ingestPut(url, `${event}/A/v1/${k}.m4s`, segmentFor(video, k + 1, D), {
      token: 'dev-ingest-tokeN',
    });
    expect(await errorOf(res)).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    await expectUnchanged();
  });

  it('400 for a bad path, naming the part and its rule', async () => {
    const { event, k, segment, expectUnchanged } = await storedEvent();
    const cases: [string, RegExp][] = [
      [`${event.toUpperCase()}/A/v1/${k}.m4s`, /event ".*" is invalid: event id: 1-63 chars/],
      [`${event}/a/v1/${k}.m4s`, /pipeline "a" is invalid: pipeline id: one capital letter/],
      [`${event}/A/V1/${k}.m4s`, /track "V1" is invalid: track id/],
      [
        `${event}/A/v1/${k}.mp4`,
        /file ".*" is invalid: file name: "init.mp4", "\{K\}.m4s" or \(caption tracks\) "\{K\}.vtt"/,
      ],
      [`${event}/A/v1`, /got 3 parts/],
    ];
    for (const [path, message] of cases) {
      const err = await errorOf(await ingestPut(url, path, segment));
      expect(err).toMatchObject({ status: 400, code: 'BAD_PATH' });
      expect(err.message).toMatch(message);
    }
    await expectUnchanged();
  });

  it('415 for a wrong or missing Content-Type', async () => {
    const { event, k, expectUnchanged } = await storedEvent();
    const wrong = await ingestPut(url, `${event}/A/v1/${k}.m4s`, segmentFor(video, k + 1, D), {
      contentType: 'text/plain',
    });
    expect(await errorOf(wrong)).toMatchObject({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    const missing = await ingestPut(url, `${event}/A/v1/${k}.m4s`, segmentFor(video, k + 1, D), { contentType: null });
    expect((await errorOf(missing)).message).toMatch(/\(missing\)/);
    expect(
      (
        await ingestPut(url, `${event}/A/v1/${k}.m4s`, segmentFor(video, k, D), {
          contentType: 'application/octet-stream; foo=bar',
        })
      ).status,
    ).toBe(204);
    await expectUnchanged();
  });

  it('413 over the size limit: by Content-Length, and by the body actually sent', async () => {
    const { event, expectUnchanged } = await storedEvent();
    const big = new Uint8Array(MAX_INIT_BYTES + 1);
    // A streamed body has no Content-Length: the route counts what arrives.
    const streamed = await fetch(`${url}/ingest/${event}/A/v1/init.mp4`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${await ingestTokenFor(`${event}/A`)}`,
        'content-type': 'video/mp4',
        'x-track-meta': '{"bandwidth":1000}',
      },
      body: new ReadableStream({
        start(c) {
          c.enqueue(big);
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(await errorOf(streamed)).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    // With Content-Length the route answers from the header (edge/read-body.test.ts shows it reads nothing).
    const declared = await errorOf(await ingestPut(url, `${event}/A/v1/init.mp4`, big));
    expect(declared).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(declared.message).toMatch(/declares 262145 bytes/);
    await expectUnchanged();
  });

  it('400 for garbage and for a truncated segment, with the parser reason', async () => {
    const { event, k, expectUnchanged } = await storedEvent();
    const garbage = new TextEncoder().encode('this is not an ISO-BMFF file, just text pretending to be one');
    const g = await errorOf(await ingestPut(url, `${event}/A/v1/${k}.m4s`, garbage));
    expect(g).toMatchObject({ status: 400, code: 'MEDIA_MALFORMED' });
    expect(g.message).toMatch(/offset 0/);
    expect((await ingestPut(url, `${event}/A/v1/init.mp4`, garbage)).status).toBe(400);

    const other = segmentFor(video, k, D, { keepSamples: 30 });
    const t = await errorOf(await ingestPut(url, `${event}/A/v1/${k}.m4s`, other.subarray(0, other.byteLength - 100)));
    expect(t).toMatchObject({ status: 400, code: 'MEDIA_MALFORMED' });
    expect(t.message).toMatch(/mdat at offset \d+: declares \d+ bytes but only \d+ remain \(truncated\?\)/);
    await expectUnchanged();
  });

  it('400 for an init body on a segment path and a segment body on an init path', async () => {
    const { event, k, segment, expectUnchanged } = await storedEvent();
    expect(await errorOf(await ingestPut(url, `${event}/A/v1/${k}.m4s`, video.init))).toMatchObject({
      status: 400,
      code: 'MEDIA_NOT_SEGMENT',
    });
    expect(await errorOf(await ingestPut(url, `${event}/A/v1/init.mp4`, segment))).toMatchObject({
      status: 400,
      code: 'MEDIA_NOT_INIT',
    });
    await expectUnchanged();
  });

  it('400 for a missing or invalid x-track-meta', async () => {
    const { event, expectUnchanged } = await storedEvent();
    expect(await errorOf(await ingestPut(url, `${event}/A/v2/init.mp4`, video.init, { meta: null }))).toMatchObject({
      status: 400,
      code: 'BAD_HEADER',
    });
    const bad = await errorOf(await ingestPut(url, `${event}/A/v2/init.mp4`, video.init, { meta: { bandwidth: -5 } }));
    expect(bad.message).toMatch(/bandwidth/);
    expect((await ingestPut(url, `${event}/A/v2/init.mp4`, video.init, { meta: '{not json' })).status).toBe(400);
    expect((await fetch(`${url}/live/${event}/v2/init.mp4`)).status).toBe(404);
    await expectUnchanged();
  });

  it('412 for a segment before its init (per pipeline and track)', async () => {
    const { event, k, segment, expectUnchanged } = await storedEvent();
    expect(await errorOf(await ingestPut(url, `${event}/B/v1/${k}.m4s`, segment))).toMatchObject({
      status: 412,
      code: 'INIT_MISSING',
    });
    expect((await ingestPut(url, `${randomEventId()}/A/v1/${k}.m4s`, segment)).status).toBe(412);
    await expectUnchanged();
    // B's copy was not stored: A still answers, without defects.
    expect((await fetch(`${url}/live/${event}/v1/${k}.m4s`)).headers.get('x-candidate')).toBe(
      'pipeline=A; region=r1; defects=none',
    );
  });

  it('409 for an init that differs from the stored one', async () => {
    const { event, expectUnchanged } = await storedEvent();
    expect(await errorOf(await ingestPut(url, `${event}/A/v1/init.mp4`, audio.init))).toMatchObject({
      status: 409,
      code: 'INIT_CONFLICT',
    });
    await expectUnchanged();
  });
});
