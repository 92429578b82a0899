import { describe, expect, it } from 'vitest';
import { comedyUhdLadder, localLadder, sportsHdLadder } from '../contract/ladder.ts';
import { mapAudioRenditions, sameLanguage } from './audio-mapping.ts';

const aac = 0x0f;
const full = [
  { pid: 257, streamType: aac, language: 'eng', channels: 6 },
  { pid: 258, streamType: aac, language: 'spa', channels: 2 },
];

describe('mapping audio renditions to source streams', () => {
  it('matches ISO 639-1 and 639-2 codes', () => {
    expect(sameLanguage('en', 'eng')).toBe(true);
    expect(sameLanguage('de', 'ger')).toBe(true);
    expect(sameLanguage('deu', 'ger')).toBe(true);
    expect(sameLanguage('es', 'eng')).toBe(false);
  });

  it('feeds stereo and 5.1 English from the 5.1 stream, Spanish from its own, and skips what the feed lacks', () => {
    const { mapped, skipped } = mapAudioRenditions(sportsHdLadder, full);
    expect(mapped.map((m) => [m.rendition.id, m.source])).toEqual([
      ['aen', '0:i:257'],
      ['aen51', '0:i:257'],
      ['aes', '0:i:258'],
    ]);
    expect(skipped).toEqual([
      { id: 'aes51', reason: 'needs 6 channels; the "es" source has 2 (never up-mixed)' },
      { id: 'afr', reason: 'no source audio stream in language "fr"' },
      { id: 'ade', reason: 'no source audio stream in language "de"' },
    ]);
  });

  it("prefers a stream with exactly the rendition's channels", () => {
    const streams = [
      { pid: 300, streamType: aac, language: 'eng', channels: 6 },
      { pid: 301, streamType: aac, language: 'eng', channels: 2 },
    ];
    const { mapped } = mapAudioRenditions(comedyUhdLadder, streams);
    expect(mapped.map((m) => [m.rendition.id, m.source])).toEqual([
      ['aen', '0:i:301'],
      ['aen51', '0:i:300'],
    ]);
  });

  it('takes an untagged stream as the primary language, and everything from 0:a:0 without a PMT', () => {
    const untagged = [{ pid: 257, streamType: aac, channels: 2 }];
    expect(mapAudioRenditions(localLadder, untagged).mapped.map((m) => m.source)).toEqual(['0:i:257']);
    const comedy = mapAudioRenditions(comedyUhdLadder, untagged);
    expect(comedy.mapped.map((m) => m.rendition.id)).toEqual(['aen']);
    expect(comedy.skipped.map((s) => s.id)).toEqual(['aen51', 'aes']);
    expect(mapAudioRenditions(localLadder, []).mapped.map((m) => m.source)).toEqual(['0:a:0']);
  });
});
