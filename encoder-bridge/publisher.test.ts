import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Publisher } from './publisher.ts';

/** A tiny ingest stand-in per region: records what it stored, refuses everything while down. */
async function region() {
  const r = { down: false, stored: [] as string[], url: '', server: http.createServer() };
  r.server.on('request', (req, res) => {
    req.resume();
    req.on('end', () => {
      if (r.down) return void res.writeHead(503).end('down');
      r.stored.push(new URL(req.url!, 'http://x').pathname.split('/').slice(-2).join('/'));
      res.writeHead(201).end();
    });
  });
  await new Promise<void>((ok) => r.server.listen(0, '127.0.0.1', ok));
  r.url = `http://127.0.0.1:${(r.server.address() as { port: number }).port}`;
  return r;
}

/** A publisher cross-publishing to two regions (the bridge's default `--publish-to r1,r2`). */
const twoRegionPublisher = (
  r1: { url: string },
  r2: { url: string },
  extra: Partial<ConstructorParameters<typeof Publisher>[0]> = {},
) =>
  new Publisher({
    ingestUrl: r1.url,
    targets: [
      { region: 'r1', url: r1.url },
      { region: 'r2', url: r2.url },
    ],
    token: 't',
    event: 'e',
    pipeline: 'A',
    segmentBudgetMs: 1500,
    log: () => {},
    ...extra,
  });

let servers: http.Server[] = [];
afterEach(() => {
  for (const s of servers) s.close();
  servers = [];
});

describe('Publisher: cross-publishing', () => {
  it('a region that was down when the init went out gets it again with its next segment, and rejoins', async () => {
    const [r1, r2] = [await region(), await region()];
    servers = [r1.server, r2.server];
    const log: string[] = [];
    const p = twoRegionPublisher(r1, r2, { initBudgetMs: 300, log: (m) => log.push(m) });
    r2.down = true;
    expect(await p.publishInit('v1', 'video', new Uint8Array(8), { bandwidth: 1000 })).toBe(false);
    expect(await p.publishSegment('v1', 'video', 10, new Uint8Array(8), [])).toBe(true);
    expect(r1.stored).toEqual(['v1/init.mp4', 'v1/10.m4s']);
    expect(p.counters.regions.r2).toMatchObject({ published: 0, failed: 1 });

    r2.down = false;
    expect(await p.publishSegment('v1', 'video', 11, new Uint8Array(8), [])).toBe(true);
    expect(r2.stored).toEqual(['v1/init.mp4', 'v1/11.m4s']);
    expect(p.counters.regions.r2).toMatchObject({ published: 1, failed: 1, lastK: 11 });
    expect(p.counters).toMatchObject({ published: 2, failed: 0, lastK: 11 });
  });
});

describe('Publisher: parts', () => {
  const publisher = (r1: { url: string }, r2: { url: string }, partRegions?: 'first' | 'all') =>
    twoRegionPublisher(r1, r2, { partDurationMs: 500, partRegions });

  it('by default parts go to the first region only; with partRegions all to every region', async () => {
    const [r1, r2] = [await region(), await region()];
    servers = [r1.server, r2.server];
    const first = publisher(r1, r2);
    await first.publishInit('v1', 'video', new Uint8Array(8), { bandwidth: 1000 });
    expect(await first.publishPart('v1', 'video', 10, 0, new Uint8Array(8))).toBe(true);
    expect(r1.stored).toEqual(['v1/init.mp4', 'v1/10.0.m4s']);
    expect(r2.stored).toEqual(['v1/init.mp4']);

    const all = publisher(r1, r2, 'all');
    await all.publishInit('v1', 'video', new Uint8Array(8), { bandwidth: 1000 });
    expect(await all.publishPart('v1', 'video', 10, 1, new Uint8Array(8))).toBe(true);
    expect(r2.stored).toEqual(['v1/init.mp4', 'v1/init.mp4', 'v1/10.1.m4s']);
    // One region down: the part still counts as published (the other has it).
    r1.down = true;
    expect(await all.publishPart('v1', 'video', 10, 2, new Uint8Array(8), 200)).toBe(true);
    expect(r2.stored.at(-1)).toBe('v1/10.2.m4s');
    expect(all.partCounters).toEqual({ published: 2, failed: 0 });
  });
});

describe('Publisher: track metadata', () => {
  it('sends non-ASCII labels as JSON \\u escapes (header values are bytes) and they parse back intact', async () => {
    let header = '';
    const server = http.createServer((req, res) => {
      header = String(req.headers['x-track-meta']);
      req.resume();
      req.on('end', () => res.writeHead(201).end());
    });
    servers = [server];
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const p = new Publisher({
      ingestUrl: base,
      targets: [{ region: 'r1', url: base }],
      token: 't',
      event: 'e',
      pipeline: 'A',
      segmentBudgetMs: 1500,
      log: () => {},
    });
    const meta = { bandwidth: 128_000, language: 'es', label: 'Español 日本語', order: 1 };
    expect(await p.publishInit('aes', 'audio', new Uint8Array(8), meta)).toBe(true);
    expect(header).toMatch(/^[\x20-\x7e]+$/);
    expect(JSON.parse(header)).toEqual(meta);
  });
});
