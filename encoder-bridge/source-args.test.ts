/**
 * The source's PTS start and per-picture UTC (source-args.ts). The values for picture 119 are
 * what ffmpeg 5.1's muxer stamped in a recording of the two-ffmpeg layout (sei-utc.e2e.test.ts
 * checks every picture of a real feed).
 */
import { describe, expect, it } from 'vitest';
import { MAX_PTS_START_MS, outputTsOffset, pictureUtcTicks } from './source-args.ts';

describe('outputTsOffset', () => {
  it('PTS carrier: T0 plus the grid offset, as before', () => {
    expect(outputTsOffset({ t0: 1_780_000_000 })).toBe('1780000000');
    expect(outputTsOffset({ t0: 1_780_000_000, gridOffsetTicks: 1499 })).toBe('1780000000.016656');
  });

  it('SEI carrier: the PTS starts at ptsStartMs (plus the grid offset), not at T0', () => {
    expect(outputTsOffset({ t0: 1_780_000_000, utcCarrier: 'sei' })).toBe('0.000000');
    expect(outputTsOffset({ t0: 1_780_000_000, utcCarrier: 'sei', ptsStartMs: 1500, gridOffsetTicks: 1499 })).toBe(
      '1.516656',
    );
    // 999 ms + 0.999989 s carries into the seconds.
    expect(outputTsOffset({ t0: 1, utcCarrier: 'sei', ptsStartMs: MAX_PTS_START_MS, gridOffsetTicks: 89_999 })).toBe(
      '95444.715989',
    );
  });

  it('refuses a start that is not whole ms or past the 33-bit PTS', () => {
    expect(() => outputTsOffset({ t0: 0, utcCarrier: 'sei', ptsStartMs: 1.5 })).toThrow(RangeError);
    expect(() => outputTsOffset({ t0: 0, utcCarrier: 'sei', ptsStartMs: MAX_PTS_START_MS + 1 })).toThrow(RangeError);
    expect(MAX_PTS_START_MS * 90).toBeLessThan(2 ** 33);
  });
});

describe('pictureUtcTicks', () => {
  it('counts whole microseconds per frame, as the muxer does (a tick lost about every second at 30 fps)', () => {
    const t0 = 1_780_000_000;
    expect(pictureUtcTicks(0, { t0, fps: '30' })).toBe(t0 * 90_000);
    expect(pictureUtcTicks(1, { t0, fps: '30' })).toBe(t0 * 90_000 + 3000);
    expect(pictureUtcTicks(119, { t0, fps: '30' })).toBe(t0 * 90_000 + 356_996);
    expect(pictureUtcTicks(119, { t0, fps: '30000/1001' })).toBe(t0 * 90_000 + 357_361);
    expect(pictureUtcTicks(119, { t0, fps: '30000/1001', gridOffsetTicks: 2999 })).toBe(t0 * 90_000 + 2999 + 357_361);
  });
});
