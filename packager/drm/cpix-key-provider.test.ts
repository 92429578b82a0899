/**
 * The CPIX key provider against the real local key server (scripts/cpix-key-server.ts, loopback
 * HTTP): request shape, keys read back, one request per (event, key period), and clear errors for
 * a key service that is down or answers garbage.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeyServer, type KeyServer } from '../../scripts/cpix-key-server.ts';
import { freePort } from '../../test/wrangler-dev.ts';
import { CpixKeyProvider, kidFor } from './cpix-key-provider.ts';
import { cpixRequest, parseCpix } from './cpix.ts';
import { toHex } from './keys.ts';
import { AppError } from '../../contract/errors.ts';

let server: KeyServer;
beforeAll(async () => {
  server = await startKeyServer();
});
afterAll(async () => {
  await server?.close();
});

/** A loopback server that answers every request with `body`. */
async function answering(status: number, body: string): Promise<{ url: string; close: () => Promise<void> }> {
  const s: Server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(body);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const a = s.address();
  return {
    url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/cpix`,
    close: () => new Promise((r) => s.close(() => r())),
  };
}

describe('CPIX documents', () => {
  it('a rotation request names each KID with its track type and key period, and parses back', async () => {
    const video = await kidFor('ev', 'video', 7);
    const audio = await kidFor('ev', 'audio', 7);
    const xml = cpixRequest({
      contentId: 'ev',
      scheme: 'cbcs',
      period: 7,
      keys: [
        { kid: video, kind: 'video' },
        { kid: audio, kind: 'audio' },
      ],
    });
    expect(xml).toContain('<cpix:CPIX xmlns:cpix="urn:dashif:org:cpix"');
    expect(xml).toContain('<cpix:ContentKeyPeriod id="keyPeriod_7" index="7"/>');
    expect(xml).toContain('commonEncryptionScheme="cbcs"');
    const doc = parseCpix(xml, (m) => new AppError('BAD_BODY', m));
    expect(doc.contentId).toBe('ev');
    expect(doc.keys.map((k) => [toHex(k.kid), k.key, k.trackType, k.periodIndex])).toEqual([
      [toHex(video), undefined, 'VIDEO', 7],
      [toHex(audio), undefined, 'AUDIO', 7],
    ]);
    // KIDs differ per kind and period and are the same every time (any isolate agrees).
    expect(toHex(video)).not.toBe(toHex(audio));
    expect(toHex(await kidFor('ev', 'video', 8))).not.toBe(toHex(video));
    expect(toHex(await kidFor('ev', 'video', 7))).toBe(toHex(video));
  });
});

describe('CpixKeyProvider with the local key server', () => {
  it('gets the keys the server issued, with one request per (event, key period)', async () => {
    const provider = new CpixKeyProvider({ url: server.cpixUrl, scheme: 'cenc', rotating: true });
    const before = server.requests();
    const v0 = await provider.getKey('e1', 'video', 0);
    const a0 = await provider.getKey('e1', 'audio', 0);
    for (let i = 0; i < 5; i++) await provider.getKey('e1', 'video', 0);
    const v1 = await provider.getKey('e1', 'video', 1);
    expect(server.requests() - before).toBe(2);
    const issued = new Map(server.issued().map((k) => [k.kid, k]));
    for (const [k, kind, period] of [
      [v0, 'VIDEO', 0],
      [a0, 'AUDIO', 0],
      [v1, 'VIDEO', 1],
    ] as const) {
      const entry = issued.get(toHex(k.kid))!;
      expect(entry).toMatchObject({ key: toHex(k.key), contentId: 'e1', trackType: kind, period });
    }
    expect(toHex(v0.key)).not.toBe(toHex(v1.key));
    // A second provider (another isolate) asks again and gets the same keys for the same KIDs.
    const again = await new CpixKeyProvider({ url: server.cpixUrl, scheme: 'cenc', rotating: true }).getKey(
      'e1',
      'video',
      0,
    );
    expect([toHex(again.kid), toHex(again.key)]).toEqual([toHex(v0.kid), toHex(v0.key)]);
  });

  it('a key service that is down fails with KEY_SERVICE_UNAVAILABLE, and a later call retries', async () => {
    const port = await freePort();
    const provider = new CpixKeyProvider({
      url: `http://127.0.0.1:${port}/cpix`,
      scheme: 'cenc',
      rotating: false,
      timeoutMs: 2000,
    });
    const err = await provider.getKey('e2', 'video', 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('KEY_SERVICE_UNAVAILABLE');
    expect((err as AppError).status).toBe(502);
    expect((err as AppError).message).toContain(`127.0.0.1:${port}`);
    expect(provider.requests).toBe(1);
    await provider.getKey('e2', 'video', 0).catch(() => undefined);
    expect(provider.requests).toBe(2);
  });

  it.each([
    ['an HTTP error', 500, 'boom', 'KEY_SERVICE_UNAVAILABLE', /HTTP 500/],
    ['not XML at all', 200, '{"keys": []}', 'KEY_SERVICE_BAD_ANSWER', /no CPIX root/],
    [
      'CPIX without the keys asked for',
      200,
      '<cpix:CPIX xmlns:cpix="urn:dashif:org:cpix"><cpix:ContentKeyList/></cpix:CPIX>',
      'KEY_SERVICE_BAD_ANSWER',
      /without a key for KID/,
    ],
    [
      'a key that is not 16 bytes',
      200,
      '<CPIX><ContentKeyList><ContentKey kid="00000000-0000-4000-8000-000000000000"><Data><Secret><PlainValue>AAEC</PlainValue></Secret></Data></ContentKey></ContentKeyList></CPIX>',
      'KEY_SERVICE_BAD_ANSWER',
      /16 bytes in base64/,
    ],
  ])('a key service answering %s fails with a clear error', async (_what, status, body, code, message) => {
    const bad = await answering(status, body);
    try {
      const err = await new CpixKeyProvider({ url: bad.url, scheme: 'cenc', rotating: false })
        .getKey('e3', 'video', 0)
        .catch((e: unknown) => e);
      expect((err as AppError).code).toBe(code);
      expect((err as AppError).message).toMatch(message);
    } finally {
      await bad.close();
    }
  });
});
