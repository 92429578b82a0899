/**
 * Finding a feed's UTC carrier and mapping its PTS onto UTC (sei-utc-feed.ts, sei-utc-restamp.ts),
 * on hand-made TS packets and on a real ffmpeg feed (testdata/media) with ffprobe as the judge of
 * the restamped timestamps. The end-to-end proof with the bridge's ffmpeg is sei-utc.e2e.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { wrapPts } from '../contract/epoch.ts';
import { adjustedPts, encodeSpliceInsert, parseSpliceSection } from '../contract/scte35-section.ts';
import { concat } from '../packager/bmff/box-writer.ts';
import { FeedUtc, MAX_FEED_CLOCK_SKEW_MS, SEI_WAIT_PICTURES } from './sei-utc-feed.ts';
import { restampTs } from './sei-utc-restamp.ts';
import { utcSeiNal } from './sei-utc.ts';
import { pesTimestamp, TS_PACKET_SIZE } from './ts-timestamps.ts';

const WRAP = 2 ** 33;
const NOW_MS = 1_780_000_000_000;

function tsBytes(prefix: number, v: number): number[] {
  return [
    (prefix << 4) | ((Math.floor(v / 2 ** 30) & 7) << 1) | 1,
    Math.floor(v / 2 ** 22) & 0xff,
    ((Math.floor(v / 2 ** 15) & 0x7f) << 1) | 1,
    Math.floor(v / 2 ** 7) & 0xff,
    ((v % 128) << 1) | 1,
  ];
}

/** One 188-byte packet: an adaptation field (with a PCR when given) stuffing the rest, then `payload`. */
function packet(pid: number, payload: number[], pcr?: { base: number; ext: number }): Uint8Array {
  const pcrBytes = pcr
    ? [
        Math.floor(pcr.base / 2 ** 25) & 0xff,
        Math.floor(pcr.base / 2 ** 17) & 0xff,
        Math.floor(pcr.base / 2 ** 9) & 0xff,
        Math.floor(pcr.base / 2) & 0xff,
        ((pcr.base & 1) << 7) | 0x7e | (pcr.ext >> 8),
        pcr.ext & 0xff,
      ]
    : [];
  const afLength = 188 - 4 - 1 - payload.length;
  if (afLength < 1 + pcrBytes.length) throw new Error('payload too long for one packet');
  return Uint8Array.from([
    0x47,
    0x40 | (pid >> 8),
    pid & 0xff,
    0x30,
    afLength,
    pcr ? 0x10 : 0x00,
    ...pcrBytes,
    ...new Array<number>(afLength - 1 - pcrBytes.length).fill(0xff),
    ...payload,
  ]);
}

/** A whole video PES in one packet: PTS (and DTS), the given SEI NALs, an IDR slice header. */
function picture(pts: number, seis: Uint8Array[] = [], opts: { dts?: number; pcr?: number } = {}): Uint8Array {
  const es = [...seis.flatMap((s) => [0, 0, 0, 1, ...s]), 0, 0, 1, 0x65, 0x88, 0x80];
  const times =
    opts.dts === undefined ? [0x80, 5, ...tsBytes(2, pts)] : [0xc0, 10, ...tsBytes(3, pts), ...tsBytes(1, opts.dts)];
  return packet(
    0x100,
    [0, 0, 1, 0xe0, 0, 0, 0x80, ...times, ...es],
    opts.pcr === undefined ? undefined : { base: opts.pcr, ext: 299 },
  );
}

const audio = (pts: number) => packet(0x101, [0, 0, 1, 0xc0, 0, 8, 0x80, 0x80, 5, ...tsBytes(2, pts), 0xff, 0xf1]);

function times(packets: Uint8Array): { pts: number; dts?: number; streamId: number }[] {
  const out = [];
  for (let p = 0; p + TS_PACKET_SIZE <= packets.length; p += TS_PACKET_SIZE) {
    const t = pesTimestamp(packets.subarray(p, p + TS_PACKET_SIZE));
    if (t) out.push(t);
  }
  return out;
}

function run(feed: Uint8Array[], opts: { arrival?: boolean } = {}) {
  const log: string[] = [];
  const utc = new FeedUtc({ log: (m) => log.push(m), now: () => NOW_MS, ...opts });
  const out = concat(feed.map((p) => utc.push(p)));
  return { out, log, status: utc.status(), utc };
}

describe('restampTs', () => {
  it('moves PTS, DTS and PCR base by the offset across the 33-bit wrap, keeps the rest, leaves the input as it was', () => {
    const input = concat([picture(WRAP - 10, [], { dts: WRAP - 3010, pcr: WRAP - 5 }), audio(WRAP - 1)]);
    const before = input.slice();
    const out = restampTs(input, 100);
    expect(input).toEqual(before);
    expect(times(out)).toEqual([
      { pts: 90, dts: WRAP - 2910, streamId: 0xe0 },
      { pts: 99, streamId: 0xc0 },
    ]);
    // PCR: base 95, the extension and reserved bits as they were.
    const pcr = out.subarray(6, 12);
    const base = pcr[0] * 2 ** 25 + pcr[1] * 2 ** 17 + pcr[2] * 2 ** 9 + pcr[3] * 2 + (pcr[4] >> 7);
    expect(base).toBe(95);
    expect(((pcr[4] & 1) << 8) | pcr[5]).toBe(299);
    expect(pcr[4] & 0x7e).toBe(0x7e);
    // Nothing but the times changed: moving them back gives the input byte for byte.
    expect(restampTs(out, -100)).toEqual(before);
  });

  it('moves an SCTE-35 splice through its pts_adjustment, CRC still valid; a section with a bad CRC is left alone', () => {
    const section = encodeSpliceInsert({
      spliceEventId: 7,
      outOfNetwork: true,
      ptsTime: WRAP - 100,
      breakDuration: 2_700_000,
    });
    const inPacket = (s: Uint8Array) => packet(0x1f0, [0, ...s]); // pointer_field 0, then the section
    const out = restampTs(inPacket(section), 1000);
    const at = out.length - section.length;
    const moved = parseSpliceSection(out.subarray(at));
    expect(moved).toMatchObject({
      spliceEventId: 7,
      ptsTime: WRAP - 100,
      ptsAdjustment: 1000,
      breakDuration: 2_700_000,
    });
    expect(adjustedPts(moved)).toBe(900);
    const corrupt = section.slice();
    corrupt[20] ^= 1;
    expect(restampTs(inPacket(corrupt), 1000)).toEqual(inPacket(corrupt));
  });

  it('on a real ffmpeg feed: ffprobe reads every packet PTS and DTS moved by the offset', () => {
    const file = 'testdata/media/cc608-160x90-29.97fps-7s.mpegts';
    const offset = 2 ** 33 - 123_456_789;
    const restamped = `/tmp/sei-utc-restamp-${process.pid}.ts`;
    writeFileSync(restamped, restampTs(new Uint8Array(readFileSync(file)), offset));
    const probe = (f: string) => {
      const r = spawnSync(
        'ffprobe',
        ['-v', 'error', '-show_entries', 'packet=stream_index,pts,dts', '-of', 'csv=p=0', f],
        { encoding: 'utf8' },
      );
      expect(r.stderr).toBe('');
      return r.stdout.trim().split('\n');
    };
    const a = probe(file);
    const b = probe(restamped);
    rmSync(restamped);
    expect(b.length).toBe(a.length);
    expect(a.length).toBeGreaterThan(200);
    for (let i = 0; i < a.length; i++) {
      const [sa, pa, da] = a[i].split(',');
      const [sb, pb, db] = b[i].split(',');
      expect(sb).toBe(sa);
      expect(wrapPts(Number(pb)), `packet ${i} pts`).toBe(wrapPts(Number(pa) + offset));
      expect(wrapPts(Number(db)), `packet ${i} dts`).toBe(wrapPts(Number(da) + offset));
    }
  });
});

describe('FeedUtc', () => {
  const utc0 = NOW_MS * 90 + 1234;

  it('SEI carrier, PTS from 0: every timestamp moved onto the SEI UTC; decided at the first picture with a UTC SEI', () => {
    const feed = [audio(0)];
    for (let n = 0; n < 20; n++) feed.push(picture(1920 + n * 3000, [utcSeiNal(utc0 + n * 3000)]), audio(n * 1920));
    const { out, log, status } = run(feed);
    expect(status).toEqual({ utcCarrier: 'sei', refusal: null, seiMismatches: 0 });
    expect(log).toHaveLength(1);
    expect(log[0]).toMatch(/^UTC from the feed's SEI/);
    const t = times(out);
    expect(t).toHaveLength(41);
    expect(t.filter((x) => x.streamId === 0xe0).map((x) => x.pts)).toEqual(
      Array.from({ length: 20 }, (_, n) => wrapPts(utc0 + n * 3000)),
    );
    expect(t[0].pts).toBe(wrapPts(utc0 - 1920));
  });

  it('SEI carrier, PTS wrapping: UTC continues straight through the wrap', () => {
    const start = WRAP - 5 * 3000;
    const feed = Array.from({ length: 12 }, (_, n) => picture((start + n * 3000) % WRAP, [utcSeiNal(utc0 + n * 3000)]));
    const { out, status } = run(feed);
    expect(status.utcCarrier).toBe('sei');
    expect(times(out).map((x) => x.pts)).toEqual(Array.from({ length: 12 }, (_, n) => wrapPts(utc0 + n * 3000)));
  });

  it('SEI on keyframes only, PTS not UTC: waits for the first SEI within SEI_WAIT_PICTURES pictures', () => {
    const feed = Array.from({ length: 20 }, (_, n) =>
      picture(n * 3000, n % 10 === 5 ? [utcSeiNal(utc0 + n * 3000)] : []),
    );
    const { utc } = run([]);
    const out: Uint8Array[] = [];
    feed.forEach((p, n) => {
      out.push(utc.push(p));
      expect(utc.status().utcCarrier, `after picture ${n}`).toBe(n <= 5 ? null : 'sei');
    });
    expect(times(concat(out)).map((x) => x.pts)).toEqual(
      Array.from({ length: 20 }, (_, n) => wrapPts(utc0 + n * 3000)),
    );
    expect(SEI_WAIT_PICTURES).toBeGreaterThan(5);
  });

  it('counts pictures whose SEI disagrees with the mapping by more than 1 ms', () => {
    const feed = Array.from({ length: 10 }, (_, n) =>
      picture(n * 3000, [utcSeiNal(utc0 + n * 3000 + (n === 6 ? 500 : 0))]),
    );
    expect(run(feed).status.seiMismatches).toBe(1);
  });

  it('PTS carrier: no SEI, PTS near the clock: decided at the first picture, bytes unchanged', () => {
    const feed = Array.from({ length: 20 }, (_, n) => picture(wrapPts(utc0 + n * 3000)));
    const { utc, log } = run([]);
    const out: Uint8Array[] = [];
    feed.forEach((p, n) => {
      out.push(utc.push(p));
      // A picture is whole when the next one starts.
      expect(utc.status().utcCarrier, `after picture ${n}`).toBe(n < 1 ? null : 'pts');
    });
    expect(concat(out)).toEqual(concat(feed));
    expect(log).toEqual([]);
  });

  it.each([
    ['PTS from 0 and no SEI', (n: number) => picture(n * 3000)],
    ['PTS an hour behind', (n: number) => picture(wrapPts(utc0 - 3600 * 90_000 + n * 3000))],
    [
      'a UTC SEI under another UUID only',
      (n: number) => {
        const nal = utcSeiNal(utc0 + n * 3000);
        nal[5] ^= 0xff; // inside the UUID
        return picture(n * 3000, [nal]);
      },
    ],
    ['a UTC SEI a day off the clock', (n: number) => picture(n * 3000, [utcSeiNal(utc0 + 86_400 * 90_000 + n * 3000)])],
  ])('refuses a feed with no usable UTC: %s (status, one log line, nothing passes)', (_, pictureAt) => {
    const feed = Array.from({ length: 40 }, (_, n) => pictureAt(n));
    const { out, log, status } = run(feed);
    expect(out.length).toBe(0);
    expect(status.refusal).toMatch(
      /^no usable UTC in the feed: .* (behind|ahead of) this bridge's clock \(more than 10 min\)/,
    );
    expect(log).toEqual([`contribution refused: ${status.refusal}`]);
  });

  it('a PTS just inside the bound is taken as UTC', () => {
    const lag = (MAX_FEED_CLOCK_SKEW_MS - 1000) * 90;
    const feed = Array.from({ length: 20 }, (_, n) => picture(wrapPts(utc0 - lag + n * 3000)));
    expect(run(feed).status).toMatchObject({ utcCarrier: 'pts', refusal: null });
  });

  it('--utc-source arrival: a feed with no UTC is stamped from the arrival clock and says it is not redundant-safe', () => {
    const feed = Array.from({ length: 20 }, (_, n) => picture(n * 3000));
    const { out, log, status } = run(feed, { arrival: true });
    expect(status).toMatchObject({ utcCarrier: 'arrival', refusal: null });
    expect(log[0]).toMatch(/NOT redundant-safe/);
    expect(times(out).map((x) => x.pts)).toEqual(Array.from({ length: 20 }, (_, n) => wrapPts(NOW_MS * 90 + n * 3000)));
  });

  it('with --utc-source arrival, a PTS that is UTC stays the carrier', () => {
    const feed = Array.from({ length: 20 }, (_, n) => picture(wrapPts(utc0 + n * 3000)));
    expect(run(feed, { arrival: true }).status.utcCarrier).toBe('pts');
  });
});
