import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Ladder, localLadder } from '../contract/ladder.ts';
import { AUDIO_CODECS, ffmpegEncoders, ladderProblems } from './audio-codecs.ts';
import { Pipeline } from './pipeline.ts';
import { Publisher } from './publisher.ts';

/** pts of the first packet the encoder emits for input starting at pts 0 (framecrc lists packets). */
function firstPacketPts(encoder: string): number {
  const out = spawnSync(
    'ffmpeg',
    [
      '-hide_banner',
      '-t',
      '0.2',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=48000',
      '-c:a',
      encoder,
      '-f',
      'framecrc',
      '-',
    ],
    { encoding: 'utf8' },
  );
  const line = out.stdout.split('\n').find((l) => /^0,/.test(l));
  if (!line) throw new Error(`no packet from ${encoder}: ${out.stderr.slice(-500)}`);
  return Number(line.split(',')[1]);
}

describe('audio codecs', () => {
  it.each(Object.entries(AUDIO_CODECS))(
    '%s: the first packet starts primingSamples before the input (the anchor relies on it)',
    (_, spec) => {
      expect(firstPacketPts(spec.encoder)).toBe(-spec.primingSamples);
    },
  );

  it('refuses HE-AAC with the reason when this ffmpeg has no libfdk_aac, and never for AAC-LC or E-AC-3', () => {
    const encoders = ffmpegEncoders('ffmpeg');
    expect(encoders.has('aac')).toBe(true);
    const ladder = Ladder.parse({
      ...localLadder,
      name: 'he',
      audio: [
        { id: 'aen' },
        { id: 'ahe', codec: 'he-aac', bitrateKbps: 64 },
        { id: 'a51', codec: 'eac3', channels: 6 },
      ],
    });
    const problems = ladderProblems(ladder, encoders);
    if (encoders.has('libfdk_aac')) {
      expect(problems).toEqual([expect.stringContaining('ahe asks for he-aac')]);
    } else {
      expect(problems).toEqual([
        expect.stringMatching(
          /ahe asks for he-aac, which needs libfdk_aac; this ffmpeg build does not have it \(its native aac encoder only encodes AAC-LC\)/,
        ),
      ]);
    }
    expect(ladderProblems(localLadder, encoders)).toEqual([]);
    // the bridge refuses at startup, before any feed arrives
    const publisher = new Publisher({
      ingestUrl: 'http://127.0.0.1:9',
      token: 't',
      event: 'e',
      pipeline: 'A',
      segmentBudgetMs: 2000,
      log: () => {},
    });
    expect(
      () =>
        new Pipeline({
          ladder,
          segmentDurationMs: 2000,
          publisher,
          ffmpegPath: 'ffmpeg',
          restartDelayMs: 0,
          log: () => {},
        }),
    ).toThrow(/ladder "he" cannot be encoded:\n {2}audio rendition ahe/);
  });

  it('names a missing encoder', () => {
    expect(ladderProblems(localLadder, new Set(['aac']))).toEqual([
      'video rung v540 (avc) needs the libx264 encoder, which this ffmpeg build does not have',
      'video rung v360 (avc) needs the libx264 encoder, which this ffmpeg build does not have',
      'video rung v234 (avc) needs the libx264 encoder, which this ffmpeg build does not have',
    ]);
  });
});
