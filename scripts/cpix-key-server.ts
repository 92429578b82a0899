/**
 * A small CPIX key server for development and tests (docs/drm.md, "Keys from a key service").
 * It listens on loopback only and behaves like a CPIX/SPEKE key service: POST /cpix with a CPIX
 * request document; every KID it has not seen gets a fresh random AES-128 key, a KID it has seen
 * gets the same key again; the answer is the CPIX document with each key in
 * Data/pskc:Secret/pskc:PlainValue. Keys live in memory only.
 *
 * GET /keys lists what it issued ({ kid, key (hex), contentId, trackType, period }) so a
 * developer can decrypt with `ffmpeg -decryption_key`, and how many CPIX requests it answered.
 *
 * Usage: node scripts/cpix-key-server.ts [--port 8790]
 * then:  PUT /api/events/{event}/drm {"drm": {"scheme": "cenc", "keys": {"provider": "cpix", "url": "http://127.0.0.1:8790/cpix"}}}
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { AppError } from '../contract/errors.ts';
import { cpixAnswer, parseCpix } from '../packager/drm/cpix.ts';
import { toHex } from '../packager/drm/keys.ts';

export interface IssuedKey {
  kid: string;
  key: string;
  contentId?: string;
  trackType?: string;
  period?: number;
}

export interface KeyServer {
  url: string;
  /** The CPIX endpoint to configure an event with. */
  cpixUrl: string;
  issued(): IssuedKey[];
  /** CPIX requests answered. */
  requests(): number;
  close(): Promise<void>;
}

export async function startKeyServer(port = 0): Promise<KeyServer> {
  const keys = new Map<string, IssuedKey>();
  let requests = 0;
  const server: Server = createServer((req, res) => {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method === 'GET' && req.url === '/keys')
      return send(200, 'application/json', JSON.stringify({ requests, keys: [...keys.values()] }, null, 2));
    if (req.method !== 'POST' || req.url !== '/cpix') return send(404, 'text/plain', 'POST /cpix or GET /keys\n');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 1 << 20) chunks.push(c);
    });
    req.on('end', () => {
      try {
        if (size > 1 << 20) throw new AppError('PAYLOAD_TOO_LARGE', 'a CPIX request is at most 1 MiB');
        const doc = parseCpix(Buffer.concat(chunks).toString('utf8'), (m) => new AppError('BAD_BODY', m));
        if (doc.keys.length === 0) throw new AppError('BAD_BODY', 'the request names no ContentKey');
        requests++;
        const answer = doc.keys.map((k) => {
          const hex = toHex(k.kid);
          let issued = keys.get(hex);
          if (!issued) {
            issued = {
              kid: hex,
              key: randomBytes(16).toString('hex'),
              contentId: doc.contentId,
              trackType: k.trackType,
              period: k.periodIndex,
            };
            keys.set(hex, issued);
          }
          return { kid: k.kid, key: Buffer.from(issued.key, 'hex') };
        });
        send(200, 'application/xml', cpixAnswer(doc.contentId ?? '', answer));
      } catch (e) {
        send(e instanceof AppError ? e.status : 500, 'text/plain', `${(e as Error).message}\n`);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
  return {
    url,
    cpixUrl: `${url}/cpix`,
    issued: () => [...keys.values()],
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

if (import.meta.main) {
  const i = process.argv.indexOf('--port');
  const server = await startKeyServer(i > 0 ? Number(process.argv[i + 1]) : 8790);
  console.log(`cpix-key-server: POST ${server.cpixUrl} (CPIX 2.3), GET ${server.url}/keys lists issued keys`);
}
