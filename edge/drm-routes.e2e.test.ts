/**
 * DRM end to end on a real `wrangler dev`: an event with `drm` stores protected inits and
 * encrypted segments, its manifests signal them, and the ClearKey license endpoint hands out the
 * documented development keys; ffmpeg decrypts what is served back to the clear samples.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { kidToUuid, toBase64Url } from '../packager/drm/keys.ts';
import { readTrackProtection } from '../packager/drm/track-protection.ts';
import { readInitInfo } from '../packager/init-info.ts';
import { packetHashes } from '../test/packet-hashes.ts';
import { concat, loadMedia as encodeMedia, liveK, partsFor, segmentFor, type Media } from '../test/media.ts';
import { DEV_OPERATOR_TOKEN, devPlayerToken, getBytes, ingestPut, randomEventId } from '../test/ingest-client.ts';

const url = inject('workerUrl');
const D = 2000;
let video: Media;
let audio: Media;

beforeAll(async () => {
  [video, audio] = await Promise.all([encodeMedia({ kind: 'video' }), encodeMedia({ kind: 'audio' })]);
});

/** The documented development key derivation (docs/drm.md), computed independently of the packager. */
const dev = (what: 'kid' | 'key', event: string, kind: string, period = 0) =>
  createHash('sha256')
    .update(`${what}:live-origin-shield-dev-keys:${event}:${kind}:${period}`)
    .digest()
    .subarray(0, 16);

function setDrm(event: string, body: unknown, token = DEV_OPERATOR_TOKEN) {
  return fetch(`${url}/api/events/${event}/drm`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** A license request with a player token for the event (keys are never public: docs/player-tokens.md). */
async function license(event: string, body: unknown) {
  return fetch(`${url}/drm/clearkey/${event}?token=${await devPlayerToken(event)}`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe.each(['cenc', 'cbcs'] as const)('DRM %s at ingest', (scheme) => {
  it('protects the init deterministically and encrypts segments that ffmpeg decrypts with the dev key', async () => {
    const event = randomEventId('drm');
    expect((await setDrm(event, { drm: { scheme } })).status).toBe(200);
    const k = liveK(D) - 2;
    // Both pipelines send the same clear init: both store the same protected bytes (no 409).
    for (const p of ['A', 'B'])
      expect((await ingestPut(url, `${event}/${p}/v1/init.mp4`, video.init)).status).toBe(201);
    expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init)).status).toBe(204);
    expect((await ingestPut(url, `${event}/A/a1/init.mp4`, audio.init, { contentType: 'audio/mp4' })).status).toBe(201);
    const init = (await getBytes(`${url}/live/${event}/v1/init.mp4`)).bytes;
    const initB = (
      await getBytes(`${url}/live/${event}/v1/init.mp4?pipeline=B`, {
        headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` },
      })
    ).bytes;
    expect(Buffer.from(init).equals(Buffer.from(initB))).toBe(true);
    const info = readInitInfo(init);
    expect(info.protection).toEqual({ scheme, defaultKid: dev('kid', event, 'video').toString('hex') });
    expect(info.codecs).toBe(video.info.codecs);
    // cenc defaults to 16-byte IVs (one WebCrypto call per segment); cbcs has a constant IV.
    expect(readTrackProtection(init)?.perSampleIvSize).toBe(scheme === 'cenc' ? 16 : 0);

    const clear = segmentFor(video, k, D);
    const put = await ingestPut(url, `${event}/A/v1/${k}.m4s`, clear);
    expect(put.status).toBe(201);
    // Inspection still reads encrypted segments: same samples, same timing.
    expect(put.headers.get('x-segment-defects')).toBe('none');
    expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, clear)).status).toBe(204);
    const served = (await getBytes(`${url}/live/${event}/v1/${k}.m4s`)).bytes;
    expect(Buffer.from(served).equals(Buffer.from(clear))).toBe(false);

    const key = dev('key', event, 'video').toString('hex');
    const expected = await packetHashes(video.init, clear);
    expect(await packetHashes(init, served, key)).toEqual(expected);
    expect(await packetHashes(init, served, '00'.repeat(16))).not.toEqual(expected);

    // Audio segments too.
    const aClear = segmentFor(audio, k, D);
    expect(
      (await ingestPut(url, `${event}/A/a1/${k}.m4s`, aClear, { contentType: 'audio/mp4' })).headers.get(
        'x-segment-defects',
      ),
    ).toBe('none');
    const aInit = (await getBytes(`${url}/live/${event}/a1/init.mp4`)).bytes;
    const aServed = (await getBytes(`${url}/live/${event}/a1/${k}.m4s`)).bytes;
    expect(await packetHashes(aInit, aServed, dev('key', event, 'audio').toString('hex'))).toEqual(
      await packetHashes(audio.init, aClear),
    );

    // Manifests signal it.
    const mpd = await (await fetch(`${url}/live/${event}/index.mpd`)).text();
    expect(mpd).toContain(`value="${scheme}" cenc:default_KID="${kidToUuid(dev('kid', event, 'video'))}"`);
    expect(mpd).toContain(`<clearkey:Laurl Lic_type="EME-1.0">${url}/drm/clearkey/${event}</clearkey:Laurl>`);
    const media = await (await fetch(`${url}/live/${event}/v1/index.m3u8`)).text();
    expect(media).toContain(`#EXT-X-KEY:METHOD=${scheme === 'cbcs' ? 'SAMPLE-AES' : 'SAMPLE-AES-CTR'},`);
  });
});

describe.each(['cenc', 'cbcs'] as const)('DRM %s on chunked CMAF parts', (scheme) => {
  it('encrypts each part deterministically (a retry is 204); a served part and the chunked segment decrypt with the dev key', async () => {
    const event = randomEventId('drm-parts');
    expect((await setDrm(event, { drm: { scheme } })).status).toBe(200);
    // The default event grid: 500 ms parts, four per segment; K is the segment being made now,
    // from its start, so K is still being made (not yet due) when its low-latency copy is asked for.
    const N = 4;
    await new Promise((r) => setTimeout(r, D - (Date.now() % D)));
    const k = liveK(D);
    const parts = partsFor(video, k, D, N);
    // A part before its pipeline's init: nothing to encrypt for, nothing stored.
    const early = await ingestPut(url, `${event}/A/v1/${k}.0.m4s`, parts[0]);
    expect(early.status).toBe(412);
    expect(((await early.json()) as { error: { code: string } }).error.code).toBe('INIT_MISSING');
    expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init)).status).toBe(201);
    // Encryption is a function of the clear bytes (cenc: the IV is derived from them), so a retry
    // stores nothing new, and pipeline B's identical part would be the same bytes.
    for (const [n, part] of parts.entries()) {
      expect((await ingestPut(url, `${event}/A/v1/${k}.${n}.m4s`, part)).status).toBe(201);
      expect((await ingestPut(url, `${event}/A/v1/${k}.${n}.m4s`, part)).status).toBe(204);
    }
    // The low-latency segment (streamed while K is made; asked for before K is due): the encrypted
    // parts one after the other. (ffmpeg 5.1 cannot decrypt a file of several encrypted fragments,
    // not even its own, so each fragment is checked as the part it is.)
    const streamed = await getBytes(`${url}/live/${event}/v1/${k}.m4s?latency=low`);
    expect(streamed.res.status).toBe(200);
    const init = (await getBytes(`${url}/live/${event}/v1/init.mp4`)).bytes;
    const key = dev('key', event, 'video').toString('hex');
    const served: Uint8Array[] = [];
    for (const [n, clear] of parts.entries()) {
      served.push((await getBytes(`${url}/live/${event}/v1/${k}.${n}.m4s`)).bytes);
      expect(Buffer.from(served[n]).equals(Buffer.from(clear))).toBe(false);
      const expected = await packetHashes(video.init, clear);
      expect(expected.length).toBeGreaterThan(5);
      expect(await packetHashes(init, served[n], key)).toEqual(expected);
      expect(await packetHashes(init, served[n], '00'.repeat(16))).not.toEqual(expected);
    }
    expect(Buffer.from(streamed.bytes).equals(Buffer.from(concat(served)))).toBe(true);
  });
});

describe('DRM config and the ClearKey license endpoint', () => {
  it('answers the W3C ClearKey request with the event keys; unknown KIDs 404, garbage 400', async () => {
    const event = randomEventId('drm');
    expect((await setDrm(event, { drm: { scheme: 'cenc' } })).status).toBe(200);
    const kids = [toBase64Url(dev('kid', event, 'video')), toBase64Url(dev('kid', event, 'audio'))];
    const res = await license(event, { kids, type: 'temporary' });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toEqual({
      keys: [
        { kty: 'oct', kid: kids[0], k: toBase64Url(dev('key', event, 'video')) },
        { kty: 'oct', kid: kids[1], k: toBase64Url(dev('key', event, 'audio')) },
      ],
      type: 'temporary',
    });
    const unknown = await license(event, { kids: [toBase64Url(dev('kid', 'other', 'video'))], type: 'temporary' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('KEY_NOT_FOUND');
    expect((await license(event, 'not json')).status).toBe(400);
    expect((await license(event, { kids: ['short'] })).status).toBe(400);
    expect((await license(randomEventId('clear'), { kids })).status).toBe(404);
    const preflight = await fetch(`${url}/drm/clearkey/${event}`, { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('needs the operator token, validates the body and locks once an init is stored', async () => {
    const event = randomEventId('drm');
    expect((await setDrm(event, { drm: { scheme: 'cenc' } }, 'wrong')).status).toBe(403);
    expect((await setDrm(event, { drm: { scheme: 'aes' } })).status).toBe(400);
    expect((await setDrm(event, { drm: { scheme: 'cbcs', rotateEverySegments: 5 } })).status).toBe(200);
    expect((await setDrm(event, { drm: { scheme: 'cenc' } })).status).toBe(200);
    expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init)).status).toBe(201);
    expect((await setDrm(event, { drm: { scheme: 'cenc' } })).status).toBe(200);
    const locked = await setDrm(event, { drm: null });
    expect(locked.status).toBe(409);
    expect(((await locked.json()) as { error: { code: string } }).error.code).toBe('DRM_LOCKED');
    const state = (await (
      await fetch(`${url}/api/events/${event}/state`, { headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` } })
    ).json()) as { config: { drm?: unknown } };
    expect(state.config.drm).toEqual({ scheme: 'cenc' });
  });
});
