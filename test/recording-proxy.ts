/**
 * An HTTP proxy between a bridge and the Worker's ingest route that keeps a copy of every PUT
 * body it forwards, so tests can compare exactly what two pipelines published.
 */
import http from 'node:http';
import { freePort } from './wrangler-dev.ts';

export interface RecordingProxy {
  url: string;
  /** Bodies by ingest path, e.g. "/ingest/ev/A/v540/897797225.m4s" → bytes and arrival time. */
  bodies: Map<string, { bytes: Uint8Array; at: number }>;
  close(): void;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const bodies = new Map<string, { bytes: Uint8Array; at: number }>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      try {
        const upstream = await fetch(`${target}${req.url}`, {
          method: req.method,
          headers: Object.fromEntries(
            Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k)) as [
              string,
              string,
            ][],
          ),
          body: req.method === 'PUT' ? body : undefined,
        });
        if (req.method === 'PUT' && upstream.ok)
          bodies.set(new URL(req.url!, 'http://proxy').pathname, { bytes: new Uint8Array(body), at: Date.now() });
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' });
        res.end(Buffer.from(await upstream.arrayBuffer()));
      } catch (err) {
        res.writeHead(502).end(String(err));
      }
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}`, bodies, close: () => server.close() };
}
