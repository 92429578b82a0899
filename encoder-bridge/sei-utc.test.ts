/**
 * The UTC SEI writer and reader (contract/utc-sei.ts): round trip to the tick, emulation
 * prevention (every real UTC has 00 00 01 in its millisecond bytes), malformed messages ignored,
 * and the SEI beside the A/53 captions in one picture.
 */
import { describe, expect, it } from 'vitest';
import { USER_DATA_UNREGISTERED, UTC_SEI_UUID, UTC_SEI_UUID_BYTES } from '../contract/utc-sei.ts';
import { a53CcSeiNal, addEmulationPrevention, field1PairsOfSei } from './cea608/a53-sei.ts';
import { AnnexBSeiInserter } from './cea608/annexb-sei-inserter.ts';
import { utcOfSeiNal, utcSeiNal } from './sei-utc.ts';

/** An SEI NAL with these raw sei_message bytes (type, size, payload…), emulation-prevented. */
const seiNal = (message: number[]) => Uint8Array.from([0x06, ...addEmulationPrevention([...message, 0x80])]);
const utcPayload = (ms: bigint, tick?: number, uuid = UTC_SEI_UUID_BYTES) => {
  const b = new Uint8Array(24 + (tick === undefined ? 0 : 1));
  b.set(uuid);
  new DataView(b.buffer).setBigUint64(16, ms);
  if (tick !== undefined) b[24] = tick;
  return [...b];
};

describe('UTC SEI', () => {
  it('the UUID is the documented one, as 16 bytes', () => {
    expect(UTC_SEI_UUID).toBe('0e37a7bf-ce2e-4d7c-96da-6549eb881ab6');
    expect(Buffer.from(UTC_SEI_UUID_BYTES).toString('hex')).toBe(UTC_SEI_UUID.replaceAll('-', ''));
  });

  it.each([
    ['now-ish, on a tick inside a millisecond', 1_780_000_000_123 * 90 + 47],
    ['a whole second', 1_780_000_000 * 90_000],
    ['89 ticks past the ms', 1_780_000_000_999 * 90 + 89],
    ['the epoch', 0],
    ['2^33 ticks and one', 2 ** 33 + 1],
  ])('round trip: %s', (_, ticks) => {
    expect(utcOfSeiNal(utcSeiNal(ticks))).toBe(ticks);
  });

  it('writes the layout: type 5, size 25, UUID, ms big-endian, tick byte; emulation prevention on the wire', () => {
    const ticks = 1_780_000_000_123 * 90 + 47;
    const nal = utcSeiNal(ticks);
    // 0x0000019E6AAEF5DB ms: bytes 00 00 01 … need an emulation prevention byte after the two zeros.
    for (let i = 0; i + 2 < nal.length; i++)
      if (nal[i] === 0 && nal[i + 1] === 0) expect(nal[i + 2], `byte ${i + 2}`).toBe(3);
    expect(nal.length).toBe(1 + 2 + 25 + 1 + 1); // header, type+size, payload, one 0x03, stop bit
    const rbsp = [...nal.subarray(1)].filter((_, i) => !(i === 20 && nal[i + 1] === 3));
    expect(rbsp.slice(0, 2)).toEqual([USER_DATA_UNREGISTERED, 25]);
    expect(rbsp.slice(2, 18)).toEqual([...UTC_SEI_UUID_BYTES]);
    expect(Buffer.from(rbsp.slice(18, 26)).readBigUInt64BE()).toBe(1_780_000_000_123n);
    expect(rbsp.slice(26)).toEqual([47, 0x80]);
  });

  it('a 24-byte payload (milliseconds only) reads as that millisecond', () => {
    const nal = seiNal([USER_DATA_UNREGISTERED, 24, ...utcPayload(1_780_000_000_123n)]);
    expect(utcOfSeiNal(nal)).toBe(1_780_000_000_123 * 90);
  });

  it('finds the UTC message after other SEI messages in the same NAL', () => {
    const other = [USER_DATA_UNREGISTERED, 17, ...new Array(16).fill(0x11), 0x42];
    const nal = seiNal([...other, USER_DATA_UNREGISTERED, 25, ...utcPayload(5n, 7)]);
    expect(utcOfSeiNal(nal)).toBe(5 * 90 + 7);
  });

  it.each([
    ['another UUID', seiNal([USER_DATA_UNREGISTERED, 25, ...utcPayload(5n, 7, new Uint8Array(16).fill(0xab))])],
    ['another payload type', seiNal([4, 25, ...utcPayload(5n, 7)])],
    ['a payload too short', seiNal([USER_DATA_UNREGISTERED, 20, ...utcPayload(5n, 7).slice(0, 20)])],
    ['a truncated message (size past the NAL)', seiNal([USER_DATA_UNREGISTERED, 40, ...utcPayload(5n, 7)])],
    ['a tick byte of 90 or more', seiNal([USER_DATA_UNREGISTERED, 25, ...utcPayload(5n, 90)])],
    ['a time past year 5000', seiNal([USER_DATA_UNREGISTERED, 25, ...utcPayload(2n ** 63n, 0)])],
    ['not an SEI NAL', Uint8Array.from([0x65, ...utcSeiNal(90).subarray(1)])],
    ['an empty SEI', Uint8Array.of(0x06)],
    ['A/53 captions only', a53CcSeiNal([[0x94, 0x20]])],
  ])('ignores %s', (_, nal) => {
    expect(utcOfSeiNal(nal)).toBeUndefined();
  });

  it('one inserter puts captions and UTC in front of every picture; both read back', () => {
    // Annex B: SPS, PPS, then per picture an IDR/non-IDR slice whose first slice-header bit is 1.
    const slice = (type: number) => [0, 0, 0, 1, type, 0x88, 0x84, 0x21];
    const stream = Uint8Array.from([
      0,
      0,
      0,
      1,
      0x67,
      0x42,
      0,
      0,
      1,
      0x68,
      0xce,
      ...slice(0x65),
      ...slice(0x41),
      ...slice(0x41),
    ]);
    const inserter = new AnnexBSeiInserter((n) => [a53CcSeiNal([[0x94, 0x20 + n]]), utcSeiNal(1000 + n)]);
    // Cut into 3-byte chunks: start codes split across chunks must still be found.
    const out: number[] = [];
    for (let i = 0; i < stream.length; i += 3) out.push(...inserter.push(stream.subarray(i, i + 3)));
    out.push(...inserter.flush());
    expect(inserter.pictures).toBe(3);
    const nals: Uint8Array[] = [];
    const bytes = Uint8Array.from(out);
    const starts: number[] = [];
    for (let i = 0; i + 2 < bytes.length; i++)
      if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1) starts.push(i + 3);
    starts.forEach((s, i) => {
      let end = i + 1 < starts.length ? starts[i + 1] - 3 : bytes.length;
      while (bytes[end - 1] === 0) end--;
      nals.push(bytes.subarray(s, end));
    });
    const seis = nals.filter((n) => (n[0] & 0x1f) === 6);
    expect(seis.map(utcOfSeiNal).filter((u) => u !== undefined)).toEqual([1000, 1001, 1002]);
    expect(seis.flatMap(field1PairsOfSei)).toEqual([
      [0x94, 0x20],
      [0x94, 0x21],
      [0x94, 0x22],
    ]);
    // Each picture: captions SEI, UTC SEI, then its slice.
    expect(nals.map((n) => n[0] & 0x1f)).toEqual([7, 8, 6, 6, 5, 6, 6, 1, 6, 6, 1]);
  });

  it('refuses to write what it cannot', () => {
    expect(() => utcSeiNal(-1)).toThrow(RangeError);
    expect(() => utcSeiNal(1.5)).toThrow(RangeError);
  });
});
