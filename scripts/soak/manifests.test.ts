import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isoDurationS, parseMediaPlaylist, parseMpd, parseMultivariant } from './manifests.ts';

const golden = (path: string) =>
  readFileSync(new URL(`../../testdata/expected/manifests/${path}`, import.meta.url), 'utf8');

describe('soak players: manifest reading (on the golden manifests)', () => {
  it('reads the MPD: type, presentation delay, video and audio representations with their templates', () => {
    const mpd = parseMpd(golden('multi-language-captions/index.mpd'));
    expect(mpd.type).toBe('dynamic');
    expect(mpd.suggestedPresentationDelayS).toBe(3.5);
    expect(mpd.timeShiftBufferDepthS).toBe(20.7);
    expect(mpd.video.map((v) => [v.id, v.media, v.initialization, v.durationS])).toEqual([
      ['v180', 'v180/$Number$.m4s', 'v180/init.mp4', 2],
      ['v360', 'v360/$Number$.m4s', 'v360/init.mp4', 2],
    ]);
    expect(mpd.audio.map((a) => a.id)).toEqual(['aen', 'aes', 'aad']);
  });

  it('reads the multivariant playlist: variants with bandwidth, the default audio first', () => {
    const mv = parseMultivariant(golden('multi-language-captions/index.m3u8'));
    expect(mv.variants).toEqual([
      { uri: 'v360/index.m3u8', bandwidth: 555000 },
      { uri: 'v180/index.m3u8', bandwidth: 534000 },
    ]);
    expect(mv.audio[0]).toEqual({ uri: 'aen/index.m3u8', isDefault: true });
  });

  it('reads a media playlist: numbers from the URIs, gaps, delta updates', () => {
    const p = parseMediaPlaylist(golden('multi-language-captions/v360/index.m3u8'));
    expect(p.mediaSequence).toBe(882028800);
    expect(p.canSkip).toBe(true);
    expect(p.segments[0]).toEqual({ k: 882028800, uri: '882028800.m4s', gap: false });
    const gapped = parseMediaPlaylist(
      '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:10\n#EXT-X-SKIP:SKIPPED-SEGMENTS=4\n#EXTINF:2.000,\n14.m4s?token=x\n#EXT-X-GAP\n#EXTINF:2.000,\n15.m4s\n#EXTINF:2.000,\n16.m4s\n#EXT-X-ENDLIST\n',
    );
    expect(gapped).toMatchObject({ mediaSequence: 10, skipped: 4, ended: true });
    expect(gapped.segments).toEqual([
      { k: 14, uri: '14.m4s?token=x', gap: false },
      { k: 15, uri: '15.m4s', gap: true },
      { k: 16, uri: '16.m4s', gap: false },
    ]);
    expect(() => parseMediaPlaylist('<html>')).toThrow(/#EXTM3U/);
  });

  it('reads ISO 8601 durations', () => {
    expect(isoDurationS('PT6S')).toBe(6);
    expect(isoDurationS('PT1M2.5S')).toBe(62.5);
    expect(isoDurationS('P1DT1H')).toBe(90000);
  });
});
