import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpPut } from './http-put.ts';

let server: http.Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

/** A real server on loopback; `answer` decides each response. */
async function serve(answer: (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => void) {
  server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => answer(req, Buffer.concat(parts), res));
  });
  await new Promise<void>((ok) => server!.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('httpPut', () => {
  it('sends the whole body with its headers and resolves with the status', async () => {
    const seen: { method?: string; path?: string; type?: string; length?: string; body?: string }[] = [];
    const url = await serve((req, body, res) => {
      seen.push({
        method: req.method,
        path: req.url,
        type: req.headers['content-type'],
        length: req.headers['content-length'],
        body: body.toString(),
      });
      res.writeHead(201).end('stored');
    });
    const answer = await httpPut(
      `${url}/ingest/e/A/v1/5.m4s?region=r2`,
      new TextEncoder().encode('hello'),
      { 'content-type': 'video/mp4' },
      2000,
    );
    expect(answer).toEqual({ status: 201, text: '' });
    expect(seen).toEqual([
      { method: 'PUT', path: '/ingest/e/A/v1/5.m4s?region=r2', type: 'video/mp4', length: '5', body: 'hello' },
    ]);
  });

  it('gives the start of an error answer for the log', async () => {
    const url = await serve((_req, _body, res) => res.writeHead(409).end('{"error":"SEGMENT_CONFLICT"}'));
    expect(await httpPut(`${url}/x`, new Uint8Array(3), {}, 2000)).toEqual({
      status: 409,
      text: '{"error":"SEGMENT_CONFLICT"}',
    });
  });

  it('reuses one connection for PUTs one after another', async () => {
    const ports = new Set<number>();
    const url = await serve((req, _body, res) => {
      ports.add(req.socket.remotePort!);
      res.writeHead(201).end();
    });
    for (let i = 0; i < 5; i++) await httpPut(`${url}/${i}`, new Uint8Array(100), {}, 2000);
    expect(ports.size).toBe(1);
  });

  it('rejects when no answer comes within the timeout', async () => {
    const url = await serve(() => {}); // never answers
    const t0 = Date.now();
    await expect(httpPut(`${url}/x`, new Uint8Array(10), {}, 300)).rejects.toThrow(/timeout/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
  });

  it('rejects a refused connection and a URL that is not http', async () => {
    const url = await serve((_req, _body, res) => res.end());
    server!.close();
    server!.closeAllConnections();
    await new Promise((r) => setTimeout(r, 50));
    await expect(httpPut(`${url}/x`, new Uint8Array(1), {}, 2000)).rejects.toThrow(/ECONNREFUSED/);
    await expect(httpPut('ftp://127.0.0.1/x', new Uint8Array(1), {}, 2000)).rejects.toThrow(/not an http/);
  });
});
