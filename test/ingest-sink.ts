/**
 * Stands in for the Worker's ingest route in bridge tests that do not need a Worker: stores every
 * PUT with its defect header, answers 201.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFECTS_HEADER } from '../contract/ingest.ts';

export interface IngestSink {
  url: string;
  puts: { pipeline: string; track: string; file: string; defects: string | undefined; body: Uint8Array }[];
  quietFor(): number;
  close(): Promise<void>;
}

export async function startIngestSink(): Promise<IngestSink> {
  const puts: IngestSink['puts'] = [];
  let lastPutAt = Date.now();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const m = /^\/ingest\/[^/]+\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(new URL(req.url ?? '/', 'http://sink').pathname);
      if (req.method !== 'PUT' || !m) return void res.writeHead(400).end();
      puts.push({
        pipeline: m[1],
        track: m[2],
        file: m[3],
        defects: req.headers[DEFECTS_HEADER] as string | undefined,
        body: Buffer.concat(chunks),
      });
      lastPutAt = Date.now();
      res.writeHead(201).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    puts,
    quietFor: () => Date.now() - lastPutAt,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
