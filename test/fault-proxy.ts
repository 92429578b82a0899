/**
 * A fault-injecting HTTP proxy between one bridge and the Worker's ingest route: for the segment
 * PUTs a test picks, it truncates the body, shifts its tfdt or drops it (answering 201 without
 * forwarding, as a publisher that believes it published). The only mock in the chaos test: these
 * are the faults a healthy bridge cannot be made to produce.
 */
import http from 'node:http';
import { readBoxes } from '../packager/bmff/box-reader.ts';
import { freePort } from './wrangler-dev.ts';

export type Fault = 'truncate' | 'tfdt' | 'skip';

export interface FaultProxy {
  url: string;
  /** What was done to each segment PUT, by `${track}/${k}`. */
  faults: Map<string, Fault>;
  /** Decide per segment PUT (it may wait); undefined passes it through unchanged. */
  decide: (track: string, k: number) => Fault | undefined | Promise<Fault | undefined>;
  /**
   * A region in trouble: every ingest PUT naming it (`?region=`) hangs until the client gives up
   * ('hang') or is refused with 503 ('refuse'). Each hung or refused request is counted.
   */
  outage: { region: string; mode: 'hang' | 'refuse' } | undefined;
  outageHits: number;
  /** How long each hung request was held before its client gave up (ms). */
  outageHeldMs: number[];
  close(): void;
}

/** Ticks added to a shifted tfdt: more than one sample at any timescale the ladder uses. */
const TFDT_SHIFT = 12_345;

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const proxy: FaultProxy = {
    url: '',
    faults: new Map(),
    decide: () => undefined,
    outage: undefined,
    outageHits: 0,
    outageHeldMs: [],
    close: () => (server.closeAllConnections(), server.close()),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      let body: Uint8Array = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://proxy');
      if (proxy.outage && url.searchParams.get('region') === proxy.outage.region) {
        proxy.outageHits++;
        if (proxy.outage.mode === 'refuse') res.writeHead(503).end('region unavailable (fault proxy)');
        const start = Date.now();
        res.on('close', () => proxy.outageHeldMs.push(Date.now() - start));
        return; // 'hang': never answered; the publisher's timeout ends it
      }
      const m = /^\/ingest\/[^/]+\/[A-Z]\/([^/]+)\/(\d+)\.m4s$/.exec(url.pathname);
      const fault = m && req.method === 'PUT' ? await proxy.decide(m[1], Number(m[2])) : undefined;
      if (m && fault) proxy.faults.set(`${m[1]}/${m[2]}`, fault);
      if (fault === 'skip') {
        res.writeHead(201, { 'x-segment-defects': 'none' }).end();
        return;
      }
      if (fault === 'truncate') body = body.slice(0, Math.floor(body.byteLength * 0.7));
      if (fault === 'tfdt') body = shiftTfdt(body, TFDT_SHIFT);
      try {
        const upstream = await fetch(`${target}${req.url}`, {
          method: req.method,
          headers: Object.fromEntries(
            Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k)) as [
              string,
              string,
            ][],
          ),
          body: req.method === 'PUT' ? (body as Uint8Array<ArrayBuffer>) : undefined,
        });
        const headers: Record<string, string> = {
          'content-type': upstream.headers.get('content-type') ?? 'text/plain',
        };
        const defects = upstream.headers.get('x-segment-defects');
        if (defects) headers['x-segment-defects'] = defects;
        res.writeHead(upstream.status, headers);
        res.end(Buffer.from(await upstream.arrayBuffer()));
      } catch (err) {
        res.writeHead(502).end(String(err));
      }
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  proxy.url = `http://127.0.0.1:${port}`;
  return proxy;
}

/** Add `ticks` to every tfdt in the segment (moof/traf/tfdt, version 0 or 1). */
export function shiftTfdt(segment: Uint8Array, ticks: number): Uint8Array {
  const out = segment.slice();
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (const moof of readBoxes(out).filter((b) => b.type === 'moof')) {
    for (const traf of readBoxes(out, moof.payload, moof.end).filter((b) => b.type === 'traf')) {
      for (const tfdt of readBoxes(out, traf.payload, traf.end).filter((b) => b.type === 'tfdt')) {
        const at = tfdt.payload + 4;
        if (out[tfdt.payload] === 1) dv.setBigUint64(at, dv.getBigUint64(at) + BigInt(ticks));
        else dv.setUint32(at, dv.getUint32(at) + ticks);
      }
    }
  }
  return out;
}
