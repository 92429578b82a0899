/**
 * The synthetic source's SCTE-35, judged by ffmpeg: a real source feed (ffmpeg, PTS = UTC) passed
 * through the inserter gains a stream ffprobe reads as `scte_35` data, whose packets are exactly
 * our sections; the video and audio packets are untouched; and the bridge's reader finds each
 * scheduled break at its UTC second with its duration.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSpliceSection } from '../../contract/scte35-section.ts';
import { concat } from '../../packager/bmff/box-writer.ts';
import { sourceArgs } from '../source-args.ts';
import { type BreakSchedule, scheduledSplice, TsScte35Inserter } from './ts-scte35-inserter.ts';
import { type FeedSplice, TsScte35Reader } from './ts-scte35-reader.ts';

const SECONDS = 7;
const schedule: BreakSchedule = { periodMs: 2000, durationMs: 30_000, prerollMs: 1000 };

/** The source's feed, as the source sends it, before and after the inserter (fed in small chunks). */
async function feed(): Promise<{ t0: number; plain: Uint8Array; withScte35: Uint8Array; sections: number }> {
  const t0 = Math.ceil(Date.now() / 1000);
  const args = sourceArgs({
    t0,
    fps: '30',
    size: '320x180',
    push: ['pipe:1'],
    durationSeconds: SECONDS,
    realtime: false,
  });
  const ffmpeg = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'ignore'] });
  const inserter = new TsScte35Inserter({ schedule, now: () => t0 * 1000 });
  const plain: Uint8Array[] = [];
  const out: Uint8Array[] = [];
  ffmpeg.stdout.on('data', (chunk: Buffer) => {
    plain.push(new Uint8Array(chunk));
    // Odd-sized pieces: packets cut anywhere must come out whole.
    for (let i = 0; i < chunk.length; i += 1000) out.push(inserter.push(chunk.subarray(i, i + 1000)));
  });
  const code = await new Promise<number | null>((resolve) => ffmpeg.on('exit', resolve));
  expect(code).toBe(0);
  return { t0, plain: concat(plain), withScte35: concat(out), sections: inserter.sections };
}

function probe(file: string, args: string[]): string {
  return execFileSync('ffprobe', ['-v', 'error', ...args, file], { encoding: 'utf8' });
}

describe('SCTE-35 in the synthetic source', () => {
  it('ffprobe reads an scte_35 stream with our sections; audio and video are unchanged; the reader finds every break', async () => {
    const { t0, plain, withScte35, sections } = await feed();
    const dir = await mkdtemp(join(tmpdir(), 'scte35-'));
    try {
      const before = join(dir, 'plain.ts');
      const after = join(dir, 'scte35.ts');
      await writeFile(before, plain);
      await writeFile(after, withScte35);
      const streams = probe(after, ['-show_entries', 'stream=codec_type,codec_name', '-of', 'csv=p=0']);
      expect(streams).toContain('scte_35,data');
      // Every audio and video packet keeps its time, size and bytes.
      const media = (file: string) =>
        probe(file, ['-select_streams', 'v:0', '-show_entries', 'packet=pts,size', '-of', 'csv=p=0']) +
        probe(file, ['-select_streams', 'a:0', '-show_entries', 'packet=pts,size', '-of', 'csv=p=0']);
      expect(media(after)).toBe(media(before));
      const hashes = (file: string) =>
        execFileSync(
          'ffmpeg',
          ['-v', 'error', '-i', file, '-map', '0:v', '-map', '0:a', '-c', 'copy', '-f', 'framemd5', '-'],
          {
            encoding: 'utf8',
          },
        );
      expect(hashes(after)).toBe(hashes(before));

      // The breaks the feed announces: every even second after t0 (the period) whose later
      // announcement (0.5 s ahead) falls on a picture of the feed, which ends one frame before t0 + SECONDS.
      const lastPicture = (t0 + SECONDS) * 1000 - 1000 / 30;
      const expected = [];
      for (let outAt = Math.ceil((t0 * 1000 + 1) / 2000) * 2000; outAt - 500 <= lastPicture; outAt += 2000)
        expected.push(outAt);
      expect(sections).toBeGreaterThanOrEqual(expected.length * 2 - 2);
      // ffmpeg's own demuxer hands out our sections, byte for byte.
      const data = probe(after, ['-select_streams', 'd:0', '-show_packets', '-show_data', '-of', 'json']);
      const packets = (JSON.parse(data) as { packets: { data: string }[] }).packets.map((p) =>
        Uint8Array.from(
          p.data
            .split('\n')
            .map((line) => line.slice(10, 49).replace(/\s/g, ''))
            .join('')
            .match(/../g)!
            .map((h) => Number.parseInt(h, 16)),
        ),
      );
      expect(packets.length).toBe(sections);
      for (const p of packets)
        expect(parseSpliceSection(p)).toMatchObject({ command: 'splice_insert', outOfNetwork: true });

      const found: FeedSplice[] = [];
      const reader = new TsScte35Reader({ onSplice: (s) => found.push(s), log: () => {}, now: () => t0 * 1000 });
      for (let i = 0; i < withScte35.length; i += 188 * 50) reader.push(withScte35.subarray(i, i + 188 * 50));
      const breaks = [...new Map(found.map((s) => [s.id, s])).values()];
      expect(breaks.map((s) => s.outAt)).toEqual(expected);
      for (const s of breaks) {
        expect(s).toMatchObject({ id: s.outAt / 1000, durationMs: 30_000 });
        expect(s.section).toEqual(scheduledSplice(s.outAt, schedule).section);
      }
      expect(reader.counters.malformed).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
