import { describe, expect, it } from 'vitest';
import { buildRtpPacket, mpegTsPayloadProblem, parseRtpPacket, MP2T_PAYLOAD_TYPE } from './rtp-packet.ts';

const tsPayload = (packets: number) => {
  const bytes = new Uint8Array(188 * packets);
  for (let p = 0; p < packets; p++) bytes[p * 188] = 0x47;
  return bytes;
};

describe('RTP packets (RFC 3550) carrying MPEG-TS (RFC 2250)', () => {
  it('round-trips the fixed header with 7 TS packets', () => {
    const payload = tsPayload(7);
    const bytes = buildRtpPacket({
      sequenceNumber: 65535,
      timestamp: 0xfffffffe,
      ssrc: 0xdeadbeef,
      marker: true,
      payload,
    });
    expect(bytes.length).toBe(12 + 1316);
    const r = parseRtpPacket(bytes);
    if (!r.ok) throw new Error(r.reason);
    expect(r.packet).toMatchObject({
      payloadType: MP2T_PAYLOAD_TYPE,
      marker: true,
      sequenceNumber: 65535,
      timestamp: 0xfffffffe,
      ssrc: 0xdeadbeef,
      csrcs: [],
    });
    expect(r.packet.payload).toEqual(payload);
    expect(mpegTsPayloadProblem(r.packet.payload)).toBeUndefined();
  });

  it('skips CSRCs, a header extension and padding to find the payload', () => {
    const payload = tsPayload(2);
    const extension = { profile: 0xbede, data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) };
    const bytes = buildRtpPacket({
      sequenceNumber: 7,
      timestamp: 1,
      ssrc: 2,
      csrcs: [10, 11],
      extension,
      padTo: 64,
      payload,
    });
    expect(bytes.length % 64).toBe(0);
    const r = parseRtpPacket(bytes);
    if (!r.ok) throw new Error(r.reason);
    expect(r.packet.csrcs).toEqual([10, 11]);
    expect(r.packet.extension?.profile).toBe(0xbede);
    expect(r.packet.extension?.data).toEqual(extension.data);
    expect(r.packet.payload).toEqual(payload);
  });

  it('rejects what is not a valid RTP packet, saying why', () => {
    const good = buildRtpPacket({ sequenceNumber: 1, timestamp: 1, ssrc: 1, payload: tsPayload(1) });
    const reason = (bytes: Uint8Array) => {
      const r = parseRtpPacket(bytes);
      return r.ok ? 'ok' : r.reason;
    };
    expect(reason(good.subarray(0, 11))).toMatch(/too short/);
    const v1 = good.slice();
    v1[0] = (1 << 6) | (v1[0] & 0x3f);
    expect(reason(v1)).toMatch(/version 1/);
    const csrc = good.slice(0, 16);
    csrc[0] |= 0x0f; // claims 15 CSRCs
    expect(reason(csrc)).toMatch(/CSRC/);
    const ext = good.slice(0, 20);
    ext[0] |= 0x10;
    ext[14] = 0xff; // extension length in words far beyond the datagram
    expect(reason(ext)).toMatch(/extension/);
    const pad = good.slice();
    pad[0] |= 0x20;
    pad[pad.length - 1] = 0;
    expect(reason(pad)).toMatch(/padding/);
    pad[pad.length - 1] = 250;
    expect(reason(pad)).toMatch(/padding/);
  });

  it('checks that the payload is whole TS packets', () => {
    expect(mpegTsPayloadProblem(new Uint8Array(100))).toMatch(/not whole TS packets/);
    const bad = tsPayload(3);
    bad[188 * 2] = 0;
    expect(mpegTsPayloadProblem(bad)).toMatch(/offset 376/);
  });
});
