/**
 * The synthetic source's CEA-608 writer, checked by an independent decoder: ffmpeg's own A/53
 * reader and eia_608 decoder (`movie=…[out+subcc]`) must find exactly the synthetic captioner's
 * text ("It is HH:MM:SS UTC"), each caption from the picture at its UTC second to the next one,
 * while the video keeps the source's PTS scheme (picture n at (T0 + n/fps)·90 kHz).
 */
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { wrapPts } from '../../contract/epoch.ts';
import { demoCueText } from '../synthetic-captions.ts';
import { writeCc608Feed } from './cc608-fixture.ts';

const srtTime = (ms: number) => new Date(ms).toISOString().slice(11, 23).replace('.', ',');

describe.each([
  ['30', 30, 1],
  ['30000/1001', 30000, 1001],
])('CEA-608 in the synthetic source at %s fps', (fps, num, den) => {
  it('decodes with ffmpeg to our text at the picture of each UTC second it names', async () => {
    const { file, t0 } = await writeCc608Feed({ fps, seconds: 9 });
    try {
      // The source's PTS scheme is untouched by the second muxer.
      const videoPts = execFileSync(
        'ffprobe',
        ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=pts', '-of', 'csv=p=0', file],
        { encoding: 'utf8' },
      )
        .split('\n')
        .map((line) => Number.parseInt(line, 10))
        .filter((pts) => !Number.isNaN(pts));
      expect(videoPts.length).toBe(Math.round((9 * num) / den));
      expect(videoPts.slice(0, 4)).toEqual(
        [0, 1, 2, 3].map((n) => wrapPts(t0 * 90_000 + Math.round((n * 90_000 * den) / num))),
      );

      const srt = execFileSync(
        'ffmpeg',
        ['-v', 'error', '-f', 'lavfi', '-i', `movie=${file}[out+subcc]`, '-map', '0:1', '-f', 'srt', 'pipe:1'],
        { encoding: 'utf8' },
      );
      const cues = srt
        .trim()
        .split(/\n\n+/)
        .map((block) => {
          const [, times, ...text] = block.split('\n');
          return { times, text: text.join('\n').replace(/<[^>]+>|\{[^}]+\}/g, '') };
        });
      // Captions start on even UTC seconds. SRT times count from the first picture, and the
      // caption for UTC t shows on the first picture at or after t. One at t0 is not sent: its
      // load would begin before the first picture.
      const first = t0 % 2 === 0 ? 2000 : 1000;
      const pictureMs = (t: number) => Math.round((Math.ceil((t * num) / (1000 * den)) * 1000 * den) / num);
      const expected = [first, first + 2000, first + 4000].map((t) => ({
        times: `${srtTime(pictureMs(t))} --> ${srtTime(pictureMs(t + 2000))}`,
        text: demoCueText('en', t0 * 1000 + t),
      }));
      expect(cues.slice(0, 3)).toEqual(expected);
    } finally {
      await rm(dirname(file), { recursive: true, force: true });
    }
  });
});
