/**
 * Exact epoch lock for any source (issue 14, must-have 1), with real parts: the synthetic source
 * with CEA-608 on (two ffmpegs and Node in between, whose stream copy of raw H.264 lets the PTS
 * slip one 90 kHz tick about every 1.1 s against UTC) and a frame grid offset from the UTC second
 * (`--grid-offset-ticks`), recorded once; two real Pipelines with real ffmpeg fed that same feed,
 * B joining at a random later moment and killed and restarted mid-way; their segments read back
 * with mp4box. For every K both publish, on every track: the same tfdt, sample count, every
 * sample's duration and the same keyframe positions (every segment starts on one, no other); and
 * A's init with A's and B's segments alternately decodes without an error, gap or overlap. A third
 * case runs the one-ffmpeg source (no CEA-608) at 29.97 with another grid offset.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFile, MP4BoxBuffer } from 'mp4box';
import { describe, expect, it } from 'vitest';
import { type BridgeRunResult, byteAt, recordSource, runBridgeOnFeed, tinyAbLadder } from '../test/bridge-run.ts';
import { sourceArgs } from './source-args.ts';

const SECONDS = 28;
const ladder = tinyAbLadder;

interface Timing {
  tfdt: number;
  durations: number[];
  /** Indexes of the sync samples. */
  sync: number[];
}

function timing(init: Uint8Array, segment: Uint8Array): Timing {
  const all = new Uint8Array(init.byteLength + segment.byteLength);
  all.set(init);
  all.set(segment, init.byteLength);
  const file = createFile();
  file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(all.buffer, 0));
  file.flush();
  // mp4box's box objects are untyped
  const moof = file.boxes.find((b: { type: string }) => b.type === 'moof') as any;
  const traf = moof.trafs[0];
  const trun = traf.truns[0];
  const flags: number[] = Array.from(
    { length: trun.sample_count },
    (_, i) =>
      trun.sample_flags?.[i] ?? (i === 0 ? trun.first_sample_flags : undefined) ?? traf.tfhd.default_sample_flags,
  );
  return {
    tfdt: Number(traf.tfdt.baseMediaDecodeTime),
    durations: Array.from(trun.sample_duration ?? []),
    sync: flags.flatMap((f, i) => ((f & 0x00010000) === 0 ? [i] : [])),
  };
}

function compare(a: BridgeRunResult, b: BridgeRunResult, track: string): number[] {
  const as = a.segments.get(track)!;
  const bs = b.segments.get(track)!;
  const common = [...as.keys()].filter((k) => bs.has(k)).sort((x, y) => x - y);
  for (const k of common) {
    const ta = timing(a.inits.get(track)!, as.get(k)!.body);
    const tb = timing(b.inits.get(track)!, bs.get(k)!.body);
    expect(tb, `${track}/${k}: B as A`).toEqual(ta);
    if (track.startsWith('v')) expect(ta.sync, `${track}/${k}: one keyframe, the first sample`).toEqual([0]);
  }
  return common;
}

/**
 * A's init, then A's and B's segments alternately over consecutive K: each segment starts where
 * the previous one ended (no gap, no overlap), and ffmpeg decodes the whole file without an error,
 * every sample of it.
 */
async function playsAlternately(a: BridgeRunResult, b: BridgeRunResult, track: string, ks: number[]): Promise<void> {
  const runs = [a, b];
  const parts = [a.inits.get(track)!];
  let end: number | undefined;
  let samples = 0;
  ks.forEach((k, i) => {
    const from = runs[i % 2];
    const body = from.segments.get(track)!.get(k)!.body;
    const t = timing(a.inits.get(track)!, body);
    if (end !== undefined) expect(t.tfdt, `${track}/${k} (${i % 2 ? 'B' : 'A'}) starts where ${k - 1} ended`).toBe(end);
    end = t.tfdt + t.durations.reduce((x, y) => x + y, 0);
    samples += t.durations.length;
    parts.push(body);
  });
  const dir = await mkdtemp(join(tmpdir(), 'epoch-lock-'));
  try {
    const file = join(dir, `${track}.mp4`);
    await writeFile(file, Buffer.concat(parts));
    const probe = spawnSync(
      'ffprobe',
      ['-v', 'error', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file],
      { encoding: 'utf8' },
    );
    expect(probe.stderr.trim(), `${track}: decoding A/B alternately`).toBe('');
    // AAC: the decoder's first frame is its priming, counted once
    expect(Number(probe.stdout.trim()), `${track}: every sample decodes`).toBeGreaterThanOrEqual(samples - 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('A and B are interchangeable for any source grid, start and restart', () => {
  it.each([
    ['30', 1499, true],
    ['60000/1001', 2, true],
    ['30000/1001', 2999, false],
  ])(
    '%s fps, frame grid %i ticks after the second, CEA-608 %s',
    async (fps, gridOffsetTicks, cc608) => {
      const { bytes: feed } = await recordSource({
        fps,
        size: '320x180',
        durationSeconds: SECONDS,
        cc608,
        gridOffsetTicks,
      });
      // B joins somewhere between 4 and 6 s in and its ffmpeg is killed 6.5 to 7.5 s later: at
      // least two segments before the kill and four after the restart.
      const join = 4 + Math.random() * 2;
      const joinAt = byteAt(feed, join);
      const killAt = byteAt(feed, join + 6.5 + Math.random());
      const [a, b] = await Promise.all([
        runBridgeOnFeed({ ladder, feed, pipeline: 'A' }),
        runBridgeOnFeed({
          ladder,
          feed,
          pipeline: 'B',
          fromByte: joinAt,
          killAtByte: killAt,
        }),
      ]);
      const logs = `A:\n${a.log.join('\n')}\nB:\n${b.log.join('\n')}`;
      const starts = b.log.filter((l) => l.startsWith('starting ffmpeg'));
      expect(starts, `B started, was killed and started again\n${logs}`).toHaveLength(2);
      const restartedAt = Number(/first segment (\d+)/.exec(starts[1])![1]);
      for (const track of ['v1', 'v2', 'a']) {
        expect(Buffer.compare(a.inits.get(track)!, b.inits.get(track)!), `${track} init`).toBe(0);
        const common = compare(a, b, track);
        expect(common.length, `${track}: K both published\n${logs}`).toBeGreaterThanOrEqual(4);
        expect(common.filter((k) => k < restartedAt).length, `${track}: K before B's restart`).toBeGreaterThan(0);
        const after = common.filter((k) => k >= restartedAt);
        expect(after.length, `${track}: K after B's restart`).toBeGreaterThanOrEqual(2);
        await playsAlternately(a, b, track, after);
      }
      for (const run of [a, b])
        for (const p of run.puts) expect(p.defects, `${p.track}/${p.file} defects\n${logs}`).toBeUndefined();
    },
    150_000,
  );

  it('a GOP longer than the lead-in: B starts on a segment whose first frame it can decode', async () => {
    // One ffmpeg source with a keyframe every 2.5 s (the synthetic source's is 0.5 s).
    const t0 = Math.ceil(Date.now() / 1000);
    const args = sourceArgs({ t0, fps: '30', size: '320x180', push: ['pipe:1'], durationSeconds: 16, realtime: false });
    args[args.indexOf('-g') + 1] = '75';
    const source = spawnSync('ffmpeg', args, { maxBuffer: 64 * 2 ** 20 });
    expect(source.status, String(source.stderr)).toBe(0);
    const feed = new Uint8Array(source.stdout);
    // B joins 0.2 s after the third keyframe (5 s): the next one is 2.3 s away, past the first S.
    const joinAt = byteAt(feed, 5.2);
    const [a, b] = await Promise.all([
      runBridgeOnFeed({ ladder, feed, pipeline: 'A' }),
      runBridgeOnFeed({ ladder, feed, pipeline: 'B', fromByte: joinAt }),
    ]);
    const logs = `A:\n${a.log.join('\n')}\nB:\n${b.log.join('\n')}`;
    expect(
      b.log.some((l) => l.startsWith('no keyframe in the feed before')),
      logs,
    ).toBe(true);
    expect(
      b.log.filter((l) => /stopping this run|unexpectedly/.test(l)),
      logs,
    ).toEqual([]);
    for (const track of ['v1', 'v2', 'a']) expect(compare(a, b, track).length, logs).toBeGreaterThanOrEqual(3);
    for (const p of b.puts) expect(p.defects, `${p.track}/${p.file}`).toBeUndefined();
  }, 120_000);
});
