import { describe, expect, it } from 'vitest';
import { captionTrackId, CaptionsPost } from './captions.ts';
import { EventConfigPatch } from './event-config.ts';

describe('caption contract', () => {
  it('names caption tracks text-{lang}, lower case', () => {
    expect(captionTrackId('pt-BR')).toBe('text-pt-br');
  });

  it('accepts a declared list once per language, with default false', () => {
    expect(EventConfigPatch.parse({ captions: [{ language: 'en', label: 'English' }] })).toEqual({
      captions: [{ language: 'en', label: 'English', default: false }],
    });
    expect(
      EventConfigPatch.safeParse({
        captions: [
          { language: 'en', label: 'A' },
          { language: 'EN', label: 'B' },
        ],
      }).success,
    ).toBe(false);
    expect(EventConfigPatch.safeParse({ captions: [{ language: 'english', label: 'A' }] }).success).toBe(false);
  });

  it('checks posted cues: UTC dates, end after start, at most 60 s, text present', () => {
    const cue = { start: '2026-11-25T11:00:00.000Z', end: '2026-11-25T11:00:02.000Z', text: 'hi' };
    expect(CaptionsPost.safeParse({ language: 'en', cues: [cue] }).success).toBe(true);
    for (const bad of [
      { ...cue, end: cue.start },
      { ...cue, end: '2026-11-25T11:01:00.001Z' },
      { ...cue, text: '  ' },
      { ...cue, start: '11:00' },
      { ...cue, extra: 1 },
    ]) {
      expect(CaptionsPost.safeParse({ language: 'en', cues: [bad] }).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
