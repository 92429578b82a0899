import dgram from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DualPathReceiver } from './dual-path-receiver.ts';
import { buildRtpPacket } from './rtp-packet.ts';
import { LOCAL_SOURCES, RtpAllowList } from './source-allow-list.ts';

const ts = (marker: number) => {
  const bytes = new Uint8Array(188 * 7);
  for (let p = 0; p < 7; p++) bytes[p * 188] = 0x47;
  bytes[4] = marker;
  return bytes;
};
const settle = (ms = 60) => new Promise((r) => setTimeout(r, ms));
const local = RtpAllowList.parse(LOCAL_SOURCES);

describe('DualPathReceiver (real UDP on loopback)', () => {
  let receiver: DualPathReceiver | undefined;
  const socket = dgram.createSocket('udp4');
  afterEach(async () => {
    await receiver?.stop();
    receiver = undefined;
  });
  afterAll(() => socket.close());

  it('merges two paths, rejects what is not RTP/MPEG-TS, and switches to a new SSRC once the old one is silent', async () => {
    const payloads: number[] = [];
    const ends: string[] = [];
    receiver = new DualPathReceiver({
      ports: [0, 0],
      skewMs: 20,
      tickMs: 5,
      allow: local,
      ssrcSwitchSilenceMs: 100,
      onPayload: (b) => payloads.push(b[4]),
      onStreamEnd: (why) => ends.push(why),
    });
    const ports = await receiver.start();
    const send = (path: number, bytes: Uint8Array) => socket.send(bytes, ports[path], '127.0.0.1');

    for (let seq = 0; seq < 10; seq++) {
      if (seq !== 3)
        send(0, buildRtpPacket({ sequenceNumber: 65530 + seq, timestamp: seq * 3000, ssrc: 0xaaaa, payload: ts(seq) }));
      if (seq !== 6)
        send(1, buildRtpPacket({ sequenceNumber: 65530 + seq, timestamp: seq * 3000, ssrc: 0xaaaa, payload: ts(seq) }));
    }
    send(0, Uint8Array.of(1, 2, 3)); // not RTP
    send(1, buildRtpPacket({ sequenceNumber: 1, timestamp: 0, ssrc: 0xaaaa, payloadType: 96, payload: ts(0) })); // not MPEG-TS
    // Losses are declared once the merge window has passed on the receiver's clock, which leaves
    // out the time the process was not running: on a loaded machine that is later than any fixed wait.
    await vi.waitFor(
      () => {
        const { path1, path2 } = receiver!.status().paths;
        expect(path1.lost + path2.lost).toBe(2);
      },
      { timeout: 5000, interval: 20 },
    );
    expect(payloads).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let s = receiver.status();
    expect(s).toMatchObject({
      streams: 1,
      invalid: 2,
      ssrc: '0000aaaa',
      active: true,
      merged: { emitted: 10, lost: 0 },
    });
    expect(s.paths.path1.lost + s.paths.path2.lost).toBe(2);

    // The sender restarts: new SSRC, new numbering, after the old one has been silent for 100 ms.
    // Stragglers of the old one are ignored. (Well over 100 ms: the receiver's clock leaves out stalls.)
    await settle(400);
    send(0, buildRtpPacket({ sequenceNumber: 500, timestamp: 0, ssrc: 0xbbbb, payload: ts(100) }));
    send(1, buildRtpPacket({ sequenceNumber: 500, timestamp: 0, ssrc: 0xbbbb, payload: ts(100) }));
    await settle();
    send(1, buildRtpPacket({ sequenceNumber: 11, timestamp: 0, ssrc: 0xaaaa, payload: ts(11) }));
    await settle();
    s = receiver.status();
    expect(ends).toEqual(['new SSRC bbbb']);
    expect(s).toMatchObject({ streams: 2, stale: 1, ssrc: '0000bbbb', merged: { emitted: 1, lost: 0 } });
    expect(s.refused).toEqual({ notAllowed: 0, otherSsrc: 0 });
    expect(payloads.at(-1)).toBe(100);
  });

  it('ends the stream when both paths go quiet, and starts a new one when packets return', async () => {
    const ends: string[] = [];
    receiver = new DualPathReceiver({
      ports: [0, 0],
      skewMs: 20,
      tickMs: 5,
      idleMs: 100,
      allow: local,
      onPayload: () => {},
      onStreamEnd: (why) => ends.push(why),
    });
    const ports = await receiver.start();
    socket.send(buildRtpPacket({ sequenceNumber: 1, timestamp: 0, ssrc: 7, payload: ts(1) }), ports[0], '127.0.0.1');
    await vi.waitFor(() => expect(ends).toEqual(['idle']), { timeout: 5000, interval: 20 });
    expect(receiver.status().active).toBe(false);
    socket.send(buildRtpPacket({ sequenceNumber: 2, timestamp: 0, ssrc: 7, payload: ts(2) }), ports[1], '127.0.0.1');
    await settle();
    expect(receiver.status()).toMatchObject({ active: true, streams: 2 });
  });
});

describe('DualPathReceiver: who may send (real UDP on loopback)', () => {
  let receiver: DualPathReceiver | undefined;
  const venue = dgram.createSocket('udp4');
  const stranger = dgram.createSocket('udp4');
  let venuePort = 0;
  beforeAll(async () => {
    await new Promise<void>((r) => venue.bind(0, '127.0.0.1', r));
    // Another loopback address (Linux answers all of 127/8): a sender on another machine.
    await new Promise<void>((r) => stranger.bind(0, '127.0.0.2', r));
    venuePort = venue.address().port;
  });
  afterEach(async () => {
    await receiver?.stop();
    receiver = undefined;
  });
  afterAll(() => {
    venue.close();
    stranger.close();
  });

  it('drops and counts datagrams from senders not on the allow-list, per path and port', async () => {
    const payloads: number[] = [];
    receiver = new DualPathReceiver({
      ports: [0, 0],
      skewMs: 20,
      tickMs: 5,
      // path 1 only from the venue's socket; path 2 from anything on 127.0.0.1 (not 127.0.0.2)
      allow: RtpAllowList.parse(`path1=127.0.0.1:${venuePort},path2=127.0.0.1`),
      onPayload: (b) => payloads.push(b[4]),
    });
    const ports = await receiver.start();
    const packet = (seq: number, marker: number) =>
      buildRtpPacket({ sequenceNumber: seq, timestamp: 0, ssrc: 0x5151, payload: ts(marker) });
    venue.send(packet(1, 1), ports[0], '127.0.0.1');
    venue.send(packet(1, 1), ports[1], '127.0.0.1');
    stranger.send(packet(2, 66), ports[0], '127.0.0.1'); // wrong address
    stranger.send(packet(2, 66), ports[1], '127.0.0.1'); // wrong address
    await settle();
    const other = dgram.createSocket('udp4'); // right address, another port: refused on path 1 only
    await new Promise<void>((r) => other.bind(0, '127.0.0.1', r));
    other.send(packet(2, 2), ports[0], '127.0.0.1');
    other.send(packet(2, 2), ports[1], '127.0.0.1');
    await settle();
    other.close();
    expect(payloads).toEqual([1, 2]);
    const s = receiver.status();
    expect(s.refused).toEqual({
      notAllowed: 3,
      otherSsrc: 0,
      lastNotAllowedFrom: expect.stringMatching(/^127\.0\.0\.1:/),
    });
    expect(s.paths.path1.received).toBe(1);
    expect(s.paths.path2.received).toBe(2);
    expect(s.allow).toBe(`path1=127.0.0.1:${venuePort},path2=127.0.0.1`);
  });

  it('one spoofed packet with a new SSRC does not interrupt the live stream', async () => {
    const payloads: number[] = [];
    const ends: string[] = [];
    receiver = new DualPathReceiver({
      ports: [0, 0],
      skewMs: 20,
      tickMs: 5,
      allow: local, // the spoofer forges an allowed source address: only the SSRC rule stands
      onPayload: (b) => payloads.push(b[4]),
      onStreamEnd: (why) => ends.push(why),
    });
    const ports = await receiver.start();
    // The real stream: one packet per path every 5 ms for 600 ms, the spoof in the middle.
    for (let seq = 0; seq < 120; seq++) {
      for (const port of ports)
        venue.send(
          buildRtpPacket({ sequenceNumber: seq, timestamp: 0, ssrc: 0x1234, payload: ts(seq) }),
          port,
          '127.0.0.1',
        );
      if (seq === 60)
        venue.send(
          buildRtpPacket({ sequenceNumber: 9, timestamp: 0, ssrc: 0xbad, payload: ts(255) }),
          ports[0],
          '127.0.0.1',
        );
      await settle(5);
    }
    await settle();
    expect(ends).toEqual([]);
    expect(payloads).toEqual(Array.from({ length: 120 }, (_, i) => i));
    expect(receiver.status()).toMatchObject({
      streams: 1,
      ssrc: '00001234',
      merged: { emitted: 120, lost: 0 },
      refused: { notAllowed: 0, otherSsrc: 1 },
    });
  });
});
