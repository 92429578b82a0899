import { describe, expect, it } from 'vitest';
import { AudioRendition, Ladder, VideoRung, ladders } from './ladder.ts';

describe('ladders', () => {
  it('offers local (default), comedy-uhd and sports-hd, each valid', () => {
    expect(Object.keys(ladders)[0]).toBe('local');
    expect(Object.keys(ladders)).toEqual(expect.arrayContaining(['local', 'comedy-uhd', 'sports-hd']));
    for (const l of Object.values(ladders)) expect(Ladder.parse(l)).toEqual(l);
    const uhd = ladders['comedy-uhd'];
    expect(uhd.video[0]).toMatchObject({ codec: 'hevc', width: 3840, height: 2160 });
    expect(new Set(uhd.video.map((r) => r.codec))).toEqual(new Set(['avc', 'hevc']));
    expect(ladders['sports-hd'].sourceFrameRate).toBe('60000/1001');
    expect(ladders['sports-hd'].audio.some((a) => a.codec === 'eac3' && a.channels === 6)).toBe(true);
  });

  it('gives sports rungs more bits than comedy rungs of the same size (high motion at 59.94)', () => {
    const rate = (ladder: string, id: string) => ladders[ladder].video.find((r) => r.id === id)!.bitrateKbps;
    for (const id of ['v1080', 'v720', 'v540', 'v360', 'h1080'])
      expect(rate('sports-hd', id)).toBeGreaterThan(rate('comedy-uhd', id));
  });

  it('rejects what cannot be encoded as described', () => {
    expect(
      VideoRung.safeParse({ id: 'h', codec: 'hevc', width: 640, height: 360, bitrateKbps: 500, profile: 'high' })
        .success,
    ).toBe(false);
    expect(VideoRung.safeParse({ id: 'v', width: 641, height: 360, bitrateKbps: 500 }).success).toBe(false);
    expect(AudioRendition.safeParse({ id: 'a', codec: 'aac-lc', channels: 6 }).success).toBe(false);
    expect(AudioRendition.safeParse({ id: 'a', codec: 'eac3', channels: 4 }).success).toBe(false);
    expect(
      Ladder.safeParse({
        name: 'x',
        video: [{ id: 'a', width: 640, height: 360, bitrateKbps: 500 }],
        audio: [{ id: 'a' }],
      }).success,
    ).toBe(false);
  });
});
