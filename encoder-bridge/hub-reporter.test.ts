import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { BridgeReport } from '../contract/control-state.ts';
import {
  backoffMs,
  buildBridgeReport,
  frameRateNumber,
  HubReporter,
  type ReportInput,
  spokeUrl,
} from './hub-reporter.ts';

const base: ReportInput = {
  event: 'show',
  pipeline: 'A',
  now: 1_800_000_000_000,
  encoder: { state: 'encoding', ffmpegRestarts: 1, frameRate: '30000/1001' },
  publisher: { published: 12, failed: 2, lastK: 900_000_000 },
  feed: { input: 'http', lastDataAgoMs: 40 },
  latenessMs: 310,
  bitrateKbps: { v234: 300, aen: 64 },
};

describe('buildBridgeReport', () => {
  it('maps the bridge counters to a report the schema accepts', () => {
    const r = buildBridgeReport(base);
    expect(BridgeReport.safeParse(r).success).toBe(true);
    expect(r).toEqual({
      kind: 'bridge',
      event: 'show',
      pipeline: 'A',
      at: base.now,
      state: 'encoding',
      inputPresent: true,
      input: 'http',
      frameRate: 29.97,
      utcCarrier: null,
      refusal: null,
      lastK: 900_000_000,
      latenessMs: 310,
      segmentsPublished: 12,
      segmentsFailed: 2,
      ffmpegRestarts: 1,
      bitrateKbps: { v234: 300, aen: 64 },
      paths: null,
    });
  });

  it('says which UTC carrier the feed uses, and why a feed is refused (idle: no ffmpeg runs)', () => {
    expect(
      buildBridgeReport({ ...base, encoder: { ...base.encoder, utcCarrier: 'sei', refusal: null } }),
    ).toMatchObject({
      state: 'encoding',
      utcCarrier: 'sei',
      refusal: null,
    });
    const refused = buildBridgeReport({
      ...base,
      encoder: { state: 'refused', ffmpegRestarts: 0, utcCarrier: 'pts', refusal: 'no usable UTC in the feed: …' },
    });
    expect(BridgeReport.safeParse(refused).success).toBe(true);
    expect(refused).toMatchObject({ state: 'idle', utcCarrier: 'pts', refusal: 'no usable UTC in the feed: …' });
  });

  it('says idle before the first feed, restarting between runs, and input lost after 2 s of silence', () => {
    const idle = buildBridgeReport({
      ...base,
      encoder: { state: 'idle', ffmpegRestarts: 0 },
      feed: null,
      publisher: { published: 0, failed: 0, lastK: undefined },
      latenessMs: null,
    });
    expect(idle).toMatchObject({ state: 'idle', inputPresent: false, input: null, frameRate: null, lastK: null });
    expect(buildBridgeReport({ ...base, encoder: { state: 'starting', ffmpegRestarts: 0 } }).state).toBe('restarting');
    expect(buildBridgeReport({ ...base, encoder: { state: 'restarting', ffmpegRestarts: 3 } }).state).toBe(
      'restarting',
    );
    const silent = buildBridgeReport({ ...base, feed: { input: 'rtp', lastDataAgoMs: 2500 } });
    expect(silent).toMatchObject({ inputPresent: false, input: 'rtp' });
  });

  it('carries the 2022-7 path counters when RTP is configured', () => {
    const r = buildBridgeReport({
      ...base,
      rtp: { paths: { path1: { received: 1000, used: 990 }, path2: { received: 995, used: 10 } }, merged: { lost: 1 } },
    });
    expect(r.paths).toEqual({ path1Packets: 1000, path2Packets: 995, recoveredFromPath2: 10, lost: 1 });
  });

  it('helpers: frame rates, the spoke URL, the backoff', () => {
    expect(frameRateNumber('30')).toBe(30);
    expect(frameRateNumber('60000/1001')).toBe(59.94);
    expect(frameRateNumber('x')).toBeNull();
    expect(spokeUrl('http://127.0.0.1:8787')).toBe('ws://127.0.0.1:8787/api/hub/spoke');
    expect(spokeUrl('https://live.example.com/')).toBe('wss://live.example.com/api/hub/spoke');
    expect([1, 2, 3, 6, 10].map(backoffMs)).toEqual([1000, 2000, 4000, 30_000, 30_000]);
  });
});

/** A minimal WebSocket server (RFC 6455, unfragmented frames): what the hub's spoke endpoint receives. */
function spokeServer() {
  const got: { auth: string | undefined; texts: string[]; binaries: Buffer[]; sockets: Duplex[] } = {
    auth: undefined,
    texts: [],
    binaries: [],
    sockets: [],
  };
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket) => {
    got.auth = req.headers.authorization;
    got.sockets.push(socket);
    const accept = createHash('sha1')
      .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (buf.length < 2) return;
        const opcode = buf[0] & 0x0f;
        let len = buf[1] & 0x7f;
        let at = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          at = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          at = 10;
        }
        if (buf.length < at + 4 + len) return;
        const mask = buf.subarray(at, at + 4);
        const payload = Buffer.from(buf.subarray(at + 4, at + 4 + len));
        for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4];
        buf = buf.subarray(at + 4 + len);
        if (opcode === 1) got.texts.push(payload.toString('utf8'));
        else if (opcode === 2) got.binaries.push(payload);
        else if (opcode === 8) socket.end();
      }
    });
    socket.on('error', () => {});
  });
  return { server, got };
}

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('HubReporter', () => {
  it('reports over a WebSocket with the ingest token, sends a JPEG thumbnail, and reconnects', async () => {
    const { server, got } = spokeServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    let feed: ReportInput['feed'] = { input: 'http', lastDataAgoMs: 0 };
    const reporter = new HubReporter({
      hubUrl: `http://127.0.0.1:${port}`,
      token: 'the-ingest-token',
      event: 'show',
      pipeline: 'B',
      segmentDurationMs: 2000,
      thumbnailTrack: 'v234',
      intervalMs: 200,
      thumbnailEveryMs: 100,
      log: () => {},
      snapshot: () => ({
        encoder: { state: 'encoding', ffmpegRestarts: 0, frameRate: '30' },
        publisher: { published: 1, failed: 0, lastK: 41 },
        feed,
      }),
    });
    cleanup = async () => {
      reporter.stop();
      for (const s of got.sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    };
    // A real init and segment of the test data: the thumbnail is decoded by ffmpeg.
    const dir = new URL('../testdata/expected/segments/avc/', import.meta.url);
    reporter.onInit('v234', new Uint8Array(await readFile(new URL('init.mp4', dir))));
    const segment = new Uint8Array(await readFile(new URL('clear.m4s', dir)));
    reporter.onSegment('v234', 'video', 41, segment, true, 42 * 2000 + 150);
    reporter.start();

    await until(() => got.texts.length >= 2);
    expect(got.auth).toBe('Bearer the-ingest-token');
    const first = BridgeReport.parse(JSON.parse(got.texts[0]));
    expect(first).toMatchObject({ event: 'show', pipeline: 'B', state: 'encoding', inputPresent: true, lastK: 41 });
    expect(first.latenessMs).toBe(150);
    expect(first.bitrateKbps.v234).toBe(Math.round((segment.byteLength * 8) / 2000));

    await until(() => got.binaries.length >= 1);
    const jpeg = got.binaries[0];
    expect([...jpeg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect(jpeg.length).toBeLessThan(50_000);
    expect(reporter.counters.thumbnailsSent).toBe(1); // one per new segment

    // A change of input presence is reported at once, not at the next interval.
    const before = got.texts.length;
    feed = null;
    await until(() => got.texts.slice(before).some((t) => JSON.parse(t).inputPresent === false), 1000);

    // The hub goes away: the reporter comes back by itself.
    for (const s of got.sockets) s.destroy();
    await until(() => reporter.counters.connects >= 2, 5000);
  });
});
