/**
 * Keys from a CPIX key service, end to end on a real `wrangler dev`: an event configured with the
 * cpix provider pointing at the local key server (scripts/cpix-key-server.ts, loopback) publishes
 * through the real ingest route; ffmpeg decrypts what is served with the keys the key server
 * issued; the Worker asks once per key period, not per segment; and a key service that is down or
 * answers garbage fails the publish with a 502 while nothing is stored.
 */
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startKeyServer, type KeyServer } from '../scripts/cpix-key-server.ts';
import { fromHex, toBase64Url } from '../packager/drm/keys.ts';
import { readInitInfo } from '../packager/init-info.ts';
import { packetHashes } from '../test/packet-hashes.ts';
import { loadMedia as encodeMedia, liveK, segmentFor, type Media } from '../test/media.ts';
import { DEV_OPERATOR_TOKEN, devPlayerToken, getBytes, ingestPut, randomEventId } from '../test/ingest-client.ts';
import { freePort } from '../test/wrangler-dev.ts';

const url = inject('workerUrl');
const D = 2000;
let video: Media;
let audio: Media;
let keyServer: KeyServer;

beforeAll(async () => {
  [video, audio, keyServer] = await Promise.all([
    encodeMedia({ kind: 'video' }),
    encodeMedia({ kind: 'audio' }),
    startKeyServer(),
  ]);
});
afterAll(async () => {
  await keyServer?.close();
});

function setDrm(event: string, drm: unknown) {
  return fetch(`${url}/api/events/${event}/drm`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ drm }),
  });
}

describe('DRM keys from a CPIX key service', () => {
  it('publishes with the key server’s keys (rotating every 2 segments), one key request per key period', async () => {
    const event = randomEventId('cpix');
    expect(
      (
        await setDrm(event, {
          scheme: 'cenc',
          rotateEverySegments: 2,
          keys: { provider: 'cpix', url: keyServer.cpixUrl },
        })
      ).status,
    ).toBe(200);
    const before = keyServer.requests();
    let k0 = liveK(D) - 4;
    if (k0 % 2) k0--;
    expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init)).status).toBe(201);
    expect((await ingestPut(url, `${event}/A/a1/init.mp4`, audio.init, { contentType: 'audio/mp4' })).status).toBe(201);
    const ks = [k0, k0 + 1, k0 + 2, k0 + 3];
    for (const k of ks) {
      expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, segmentFor(video, k, D))).status).toBe(201);
      expect(
        (await ingestPut(url, `${event}/A/a1/${k}.m4s`, segmentFor(audio, k, D), { contentType: 'audio/mp4' })).status,
      ).toBe(201);
    }
    // Periods 0 (the headers), k0/2 and k0/2 + 1: three CPIX requests for 2 inits and 8 segments.
    expect(keyServer.requests() - before).toBe(3);

    const issued = keyServer.issued().filter((i) => i.contentId === event);
    const keyOf = (trackType: string, period: number) => {
      const found = issued.find((i) => i.trackType === trackType && i.period === period);
      expect(found, `${trackType} key of period ${period}`).toBeDefined();
      return found!;
    };
    const init = (await getBytes(`${url}/live/${event}/v1/init.mp4`)).bytes;
    expect(readInitInfo(init).protection?.defaultKid).toBe(keyOf('VIDEO', 0).kid);
    const aInit = (await getBytes(`${url}/live/${event}/a1/init.mp4`)).bytes;
    for (const k of [k0, k0 + 3]) {
      const period = Math.floor(k / 2);
      const served = (await getBytes(`${url}/live/${event}/v1/${k}.m4s`)).bytes;
      expect(await packetHashes(init, served, keyOf('VIDEO', period).key)).toEqual(
        await packetHashes(video.init, segmentFor(video, k, D)),
      );
      const aServed = (await getBytes(`${url}/live/${event}/a1/${k}.m4s`)).bytes;
      expect(await packetHashes(aInit, aServed, keyOf('AUDIO', period).key)).toEqual(
        await packetHashes(audio.init, segmentFor(audio, k, D)),
      );
    }

    // The ClearKey license endpoint hands out the same keys, only for a player token of the event.
    const v0 = keyOf('VIDEO', 0);
    const licenseBody = JSON.stringify({ kids: [toBase64Url(fromHex(v0.kid))], type: 'temporary' });
    const anonymous = await fetch(`${url}/drm/clearkey/${event}`, { method: 'POST', body: licenseBody });
    expect(anonymous.status).toBe(403);
    expect(await anonymous.text()).not.toContain(toBase64Url(fromHex(v0.key)));
    const lic = await fetch(`${url}/drm/clearkey/${event}?token=${await devPlayerToken(event)}`, {
      method: 'POST',
      body: licenseBody,
    });
    expect(lic.status).toBe(200);
    expect(((await lic.json()) as { keys: { k: string }[] }).keys[0].k).toBe(toBase64Url(fromHex(v0.key)));
  });

  it('a key service that is down fails the publish with 502 KEY_SERVICE_UNAVAILABLE and stores nothing', async () => {
    const event = randomEventId('cpix');
    const port = await freePort();
    expect(
      (
        await setDrm(event, {
          scheme: 'cbcs',
          keys: { provider: 'cpix', url: `http://127.0.0.1:${port}/cpix`, timeoutMs: 2000 },
        })
      ).status,
    ).toBe(200);
    const res = await ingestPut(url, `${event}/A/v1/init.mp4`, video.init);
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('KEY_SERVICE_UNAVAILABLE');
    expect(body.error.message).toContain(`127.0.0.1:${port}`);
    expect((await fetch(`${url}/live/${event}/v1/init.mp4`)).status).toBe(404);
  });

  it('a key service that answers garbage fails the publish with 502 KEY_SERVICE_BAD_ANSWER and stores nothing', async () => {
    const garbage = createServer((_req, res) => res.end('<html>maintenance</html>'));
    await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', () => r()));
    const a = garbage.address();
    try {
      const event = randomEventId('cpix');
      expect(
        (
          await setDrm(event, {
            scheme: 'cenc',
            keys: { provider: 'cpix', url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/cpix` },
          })
        ).status,
      ).toBe(200);
      const res = await ingestPut(url, `${event}/A/v1/init.mp4`, video.init);
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('KEY_SERVICE_BAD_ANSWER');
      expect((await fetch(`${url}/live/${event}/v1/init.mp4`)).status).toBe(404);
    } finally {
      await new Promise<void>((r) => garbage.close(() => r()));
    }
  });

  it('rejects a key source that is not an http(s) URL', async () => {
    const res = await setDrm(randomEventId('cpix'), {
      scheme: 'cenc',
      keys: { provider: 'cpix', url: 'file:///etc/passwd' },
    });
    expect(res.status).toBe(400);
  });
});
