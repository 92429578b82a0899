import { describe, expect, it } from 'vitest';
import { comedyUhdLadder, localLadder, sportsHdLadder, tinyLadder } from '../contract/ladder.ts';
import { ladderForLanguages } from './audio-languages.ts';
import { iso639Part2, mapAudioRenditions } from './audio-mapping.ts';
import { loadBridgeConfig } from './config.ts';
import { languageToneHz, sourceArgs } from './source-args.ts';

const aac = 0x0f;
const ids = (l: { audio: { id: string }[] }) => l.audio.map((a) => a.id);

describe('audio renditions per event language', () => {
  it("keeps a preset's own renditions and ids for the languages it names, in the event's order", () => {
    expect(ids(ladderForLanguages(sportsHdLadder, ['en', 'es', 'fr', 'de']))).toEqual([
      'aen',
      'aen51',
      'aes',
      'aes51',
      'afr',
      'ade',
    ]);
    expect(ids(ladderForLanguages(sportsHdLadder, ['es', 'en']))).toEqual(['aes', 'aes51', 'aen', 'aen51']);
    // Languages not asked for are left out.
    expect(ids(ladderForLanguages(comedyUhdLadder, ['en']))).toEqual(['aen', 'aen51']);
  });

  it("derives a language the ladder lacks from its primary renditions: same codec, the language's id and label", () => {
    const local = ladderForLanguages(localLadder, ['en', 'es', 'fr', 'de']);
    expect(local.audio.map((a) => [a.id, a.language, a.label, a.codec, a.bitrateKbps])).toEqual([
      ['aen', 'en', 'English', 'aac-lc', 128],
      ['aes', 'es', 'Español', 'aac-lc', 128],
      ['afr', 'fr', 'Français', 'aac-lc', 128],
      ['ade', 'de', 'Deutsch', 'aac-lc', 128],
    ]);
    expect(local.video).toEqual(localLadder.video);
    const comedy = ladderForLanguages(comedyUhdLadder, ['en', 'pt-BR']);
    expect(comedy.audio.map((a) => [a.id, a.language, a.label])).toEqual([
      ['aen', 'en', 'English'],
      ['aen51', 'en', 'English 5.1'],
      ['apt-br', 'pt-BR', 'Português'],
      ['apt-br51', 'pt-BR', 'Português 5.1'],
    ]);
  });

  it('is a pure function of ladder and languages: pipelines A and B get the same tracks', () => {
    expect(ladderForLanguages(tinyLadder, ['de', 'en'])).toEqual(ladderForLanguages(tinyLadder, ['de', 'en']));
  });

  it('refuses languages that would give two tracks one id', () => {
    expect(() => ladderForLanguages(sportsHdLadder, ['pt', 'pt-BR'])).not.toThrow();
    expect(() => ladderForLanguages(comedyUhdLadder, ['es', 'spa'])).toThrow(/track id "aes" twice/);
  });

  it("feeds each language from the source stream tagged with it; a language the feed lacks is skipped, never another's sound", () => {
    const ladder = ladderForLanguages(localLadder, ['en', 'es', 'fr', 'de']);
    const feed = [
      { pid: 256, streamType: aac, language: 'eng', channels: 2 },
      { pid: 257, streamType: aac, language: 'fra', channels: 2 },
      { pid: 258, streamType: aac, language: 'ger', channels: 2 },
    ];
    const { mapped, skipped } = mapAudioRenditions(ladder, feed);
    expect(mapped.map((m) => [m.rendition.id, m.source])).toEqual([
      ['aen', '0:i:256'],
      ['afr', '0:i:257'],
      ['ade', '0:i:258'],
    ]);
    expect(skipped).toEqual([{ id: 'aes', reason: 'no source audio stream in language "es"' }]);
  });
});

describe('--audio-languages', () => {
  it('is read from the flag or BRIDGE_AUDIO_LANGUAGES and validated', () => {
    expect(loadBridgeConfig(['--audio-languages', 'en,es'], {}).audioLanguages).toEqual(['en', 'es']);
    expect(loadBridgeConfig([], { BRIDGE_AUDIO_LANGUAGES: 'fr' }).audioLanguages).toEqual(['fr']);
    expect(loadBridgeConfig([], {}).audioLanguages).toBeUndefined();
    expect(() => loadBridgeConfig(['--audio-languages', 'en,EN'], {})).toThrow(
      /--audio-languages: languages must not repeat/,
    );
    expect(() => loadBridgeConfig(['--audio-languages', 'english'], {})).toThrow(/--audio-languages: a BCP 47/);
    expect(() => loadBridgeConfig(['--audio-languages', ''], {})).toThrow(/--audio-languages/);
  });

  it('the synthetic source sends one tagged stream per language, each a tone of its own', () => {
    const args = sourceArgs({
      t0: 1,
      fps: '30',
      size: '320x180',
      push: ['pipe:1'],
      durationSeconds: 1,
      audioLanguages: ['en', 'es', 'fr', 'de'],
    });
    const joined = args.join(' ');
    for (const [i, code] of ['eng', 'spa', 'fra', 'deu'].entries()) {
      expect(joined).toContain(`sine=frequency=${languageToneHz(i)}:`);
      expect(joined).toContain(`-map ${i + 1}:a`);
      expect(joined).toContain(`-metadata:s:a:${i} language=${code}`);
    }
    expect([0, 1, 2, 3].map(languageToneHz)).toEqual([440, 660, 880, 1100]);
    expect(iso639Part2('pt-BR')).toBe('por');
    expect(iso639Part2('xx')).toBeUndefined();
  });
});
