import dgram from 'node:dgram';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DualPathReceiver } from './dual-path-receiver.ts';
import { buildRtpPacket } from './rtp-packet.ts';

const ts = (marker: number) => {
  const bytes = new Uint8Array(188 * 7);
  for (let p = 0; p < 7; p++) bytes[p * 188] = 0x47;
  bytes[4] = marker;
  return bytes;
};
const settle = (ms = 60) => new Promise((r) => setTimeout(r, ms));

describe('DualPathReceiver (real UDP on loopback)', () => {
  let receiver: DualPathReceiver | undefined;
  const socket = dgram.createSocket('udp4');
  afterEach(async () => {
    await receiver?.stop();
    receiver = undefined;
  });
  afterAll(() => socket.close());

  it('merges two paths, rejects what is not RTP/MPEG-TS, and resets on a new SSRC', async () => {
    const payloads: number[] = [];
    const ends: string[] = [];
    receiver = new DualPathReceiver({
      ports: [0, 0],
      skewMs: 20,
      tickMs: 5,
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
    await settle();
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

    // The sender restarts: new SSRC, new numbering. Stragglers of the old one are ignored.
    send(0, buildRtpPacket({ sequenceNumber: 500, timestamp: 0, ssrc: 0xbbbb, payload: ts(100) }));
    send(1, buildRtpPacket({ sequenceNumber: 500, timestamp: 0, ssrc: 0xbbbb, payload: ts(100) }));
    await settle();
    send(1, buildRtpPacket({ sequenceNumber: 11, timestamp: 0, ssrc: 0xaaaa, payload: ts(11) }));
    await settle();
    s = receiver.status();
    expect(ends).toEqual(['new SSRC bbbb']);
    expect(s).toMatchObject({ streams: 2, stale: 1, ssrc: '0000bbbb', merged: { emitted: 1, lost: 0 } });
    expect(payloads.at(-1)).toBe(100);
  });

  it('ends the stream when both paths go quiet, and starts a new one when packets return', async () => {
    const ends: string[] = [];
    receiver = new DualPathReceiver({
      ports: [0, 0],
      skewMs: 20,
      tickMs: 5,
      idleMs: 100,
      onPayload: () => {},
      onStreamEnd: (why) => ends.push(why),
    });
    const ports = await receiver.start();
    socket.send(buildRtpPacket({ sequenceNumber: 1, timestamp: 0, ssrc: 7, payload: ts(1) }), ports[0], '127.0.0.1');
    await settle(250);
    expect(ends).toEqual(['idle']);
    expect(receiver.status().active).toBe(false);
    socket.send(buildRtpPacket({ sequenceNumber: 2, timestamp: 0, ssrc: 7, payload: ts(2) }), ports[1], '127.0.0.1');
    await settle();
    expect(receiver.status()).toMatchObject({ active: true, streams: 2 });
  });
});
