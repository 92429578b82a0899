import { describe, expect, it } from 'vitest';
import { formatFrameRate, snapFrameRate, videoTimescale } from './frame-rate.ts';

describe('frame rates', () => {
  it('snaps a short PTS average to the broadcast rate, telling 59.94 from 60', () => {
    expect(snapFrameRate(10510 / 7)).toEqual({ num: 60000, den: 1001 }); // 8 PTS with 1501/1502 steps
    expect(snapFrameRate(10511 / 7)).toEqual({ num: 60000, den: 1001 });
    expect(snapFrameRate(1500)).toEqual({ num: 60, den: 1 });
    expect(snapFrameRate(3003)).toEqual({ num: 30000, den: 1001 });
    expect(snapFrameRate(3600)).toEqual({ num: 25, den: 1 });
    expect(snapFrameRate(4000)).toBeUndefined(); // 22.5 fps is not a broadcast rate
  });

  it('uses 90 kHz where a frame is whole ticks of it, else the rate numerator', () => {
    const ts = (num: number, den: number) => videoTimescale({ num, den });
    expect([ts(25, 1), ts(30000, 1001), ts(30, 1), ts(50, 1), ts(60000, 1001), ts(24000, 1001)]).toEqual([
      90_000, 90_000, 90_000, 90_000, 60_000, 24_000,
    ]);
    expect(videoTimescale(undefined)).toBe(90_000);
    expect(formatFrameRate({ num: 60000, den: 1001 })).toBe('60000/1001');
  });
});
