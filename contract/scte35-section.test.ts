import { SCTE35 } from 'scte35/build/lib/scte35.js';
import { describe, expect, test } from 'vitest';
import {
  adjustedPts,
  crc32Mpeg2,
  encodeSpliceInsert,
  encodeTimeSignal,
  fromBase64,
  parseSpliceSection,
  toBase64,
} from './scte35-section.ts';

/** ANSI/SCTE 35 2019 §14.2, "splice_insert": OUT at pts 0x07369C02E with a 0x00052CCF5 break. */
const SPEC_SPLICE_INSERT = '/DAvAAAAAAAA///wFAVIAACPf+/+c2nALv4AUsz1AAAAAAAKAAhDVUVJAAABNWLbowo=';
/** §14.1, "time_signal – Placement Opportunity Start": time_signal at pts 0x072BD0050. */
const SPEC_TIME_SIGNAL = '/DA0AAAAAAAA///wBQb+cr0AUAAeAhxDVUVJSAAAjn/PAAGlmbAICAAAAAAsoKGKNAIAmsnRfg==';

describe('SCTE-35 splice_info_section', () => {
  test('CRC-32/MPEG-2 of the check string is 0x0376E6E7', () => {
    expect(crc32Mpeg2(new TextEncoder().encode('123456789'))).toBe(0x0376e6e7);
  });

  test("reads the standard's splice_insert example", () => {
    const s = parseSpliceSection(fromBase64(SPEC_SPLICE_INSERT));
    expect(s).toMatchObject({
      command: 'splice_insert',
      spliceEventId: 0x4800008f,
      outOfNetwork: true,
      ptsTime: 0x07369c02e,
      breakDuration: 0x00052ccf5,
      autoReturn: true,
      ptsAdjustment: 0,
    });
  });

  test("reads the standard's time_signal example", () => {
    const s = parseSpliceSection(fromBase64(SPEC_TIME_SIGNAL));
    expect(s).toEqual({ command: 'time_signal', ptsTime: 0x072bd0050, ptsAdjustment: 0 });
  });

  test('a written splice_insert reads back, and the scte35 package reads the same id, flags and duration', () => {
    const bytes = encodeSpliceInsert({ spliceEventId: 0xdeadbeef, outOfNetwork: true, breakDuration: 2_700_000 });
    expect(crc32Mpeg2(bytes)).toBe(0); // the CRC over a whole section, its CRC included, is 0
    expect(parseSpliceSection(bytes)).toEqual({
      command: 'splice_insert',
      spliceEventId: 0xdeadbeef,
      outOfNetwork: true,
      ptsAdjustment: 0,
      breakDuration: 2_700_000,
      autoReturn: true,
    });
    // Immediate splices have no splice_time: the one shape the package reads correctly.
    const lib = SCTE35.parseFromB64(toBase64(bytes));
    expect(lib).toMatchObject({ tableId: 0xfc, spliceCommandType: 5, sectionLength: bytes.length - 3, tier: 0xfff });
    expect(lib.spliceCommand).toMatchObject({
      spliceEventId: 0xdeadbeef,
      outOfNetworkIndicator: true,
      programSpliceFlag: true,
      spliceImmediateFlag: true,
      breakDuration: { autoReturn: true, duration: 2_700_000 },
    });
    expect(lib.crc).toBe(new DataView(bytes.buffer).getUint32(bytes.length - 4));
  });

  test('a timed splice_insert keeps a 33-bit time and duration; the package misreads it (why we parse ourselves)', () => {
    const pts = 2 ** 33 - 90_000; // one second before the wrap: bit 32 set
    const bytes = encodeSpliceInsert({ spliceEventId: 7, outOfNetwork: false, ptsTime: pts });
    expect(parseSpliceSection(bytes)).toEqual({
      command: 'splice_insert',
      spliceEventId: 7,
      outOfNetwork: false,
      ptsTime: pts,
      ptsAdjustment: 0,
    });
    const lib = SCTE35.parseFromB64(SPEC_SPLICE_INSERT).spliceCommand as { spliceTime?: { pts?: number } };
    expect(lib.spliceTime?.pts).not.toBe(0x07369c02e);
  });

  test('a written time_signal reads back and the scte35 package reads the same time', () => {
    const bytes = encodeTimeSignal(0x1_2345_6789);
    expect(parseSpliceSection(bytes)).toEqual({ command: 'time_signal', ptsTime: 0x1_2345_6789, ptsAdjustment: 0 });
    expect(SCTE35.parseFromB64(toBase64(bytes)).spliceCommand).toEqual({ specified: true, pts: 0x1_2345_6789 });
  });

  test('pts_adjustment is added modulo 2^33', () => {
    const bytes = encodeSpliceInsert({ spliceEventId: 1, outOfNetwork: true, ptsTime: 2 ** 33 - 10 });
    bytes[8] = 20; // pts_adjustment = 20 (and the CRC no longer matches: recompute it)
    new DataView(bytes.buffer).setUint32(bytes.length - 4, crc32Mpeg2(bytes.subarray(0, bytes.length - 4)));
    expect(adjustedPts(parseSpliceSection(bytes))).toBe(10);
  });

  test('refuses a damaged, truncated or foreign section with the reason', () => {
    const bytes = encodeSpliceInsert({ spliceEventId: 1, outOfNetwork: true, ptsTime: 1000 });
    const flipped = bytes.slice();
    flipped[10] ^= 1;
    expect(() => parseSpliceSection(flipped)).toThrow(/CRC_32/);
    expect(() => parseSpliceSection(bytes.subarray(0, 20))).toThrow(/section_length/);
    const other = bytes.slice();
    other[0] = 0x02;
    expect(() => parseSpliceSection(other)).toThrow(/table_id/);
  });
});
