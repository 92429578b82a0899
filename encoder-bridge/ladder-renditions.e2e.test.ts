/**
 * The comedy-uhd and sports-hd ladder layouts with real encoders, scaled down to tiny pictures so
 * a 2-core machine can run them faster than real time: HEVC (hvc1) beside AVC rungs, AAC-LC
 * stereo, E-AC-3 5.1, two languages from the synthetic source's `full` audio (English 5.1,
 * Spanish stereo). Checks the codecs and channel counts the inits declare (read with mp4box),
 * that each rendition carries the source stream its language names (by the sines in it), and
 * that every track's segments start where epoch locking says.
 */
import { spawnSync } from 'node:child_process';
import { createFile, MP4BoxBuffer } from 'mp4box';
import { describe, expect, it } from 'vitest';
import { comedyUhdLadder, Ladder, sportsHdLadder } from '../contract/ladder.ts';
import { runBridge, type BridgeRunResult } from '../test/bridge-run.ts';
import { parseWithMp4box } from '../test/mp4box-inspect.ts';

const D = 2000;

/** The same codecs and audio layout as a preset, with pictures small enough for a test. */
function scaledDown(ladder: Ladder): Ladder {
  const small = [
    [320, 180],
    [256, 144],
  ];
  const hevc = ladder.video.find((r) => r.codec === 'hevc')!;
  const avc = ladder.video.find((r) => r.codec === 'avc')!;
  return Ladder.parse({
    ...ladder,
    name: `${ladder.name}-small`,
    video: [hevc, avc].map((r, i) => ({
      ...r,
      width: small[i][0],
      height: small[i][1],
      bitrateKbps: 200,
      preset: 'ultrafast',
    })),
    audio: ladder.audio.map((a) => ({ ...a, bitrateKbps: a.codec === 'eac3' ? 192 : 64 })),
  });
}

// English 5.1 is 440, 550, 660, 60, 770, 880 Hz per channel (FL FR FC LFE, surrounds); Spanish stereo 500, 600 Hz.
const ENGLISH_51 = [440, 550, 660, 60, 770, 880];
const SPANISH = [500, 600];

describe('ladder presets with real encoders (scaled down)', () => {
  it('comedy-uhd at 30 fps: hvc1 and avc1 rungs, AAC stereo, E-AC-3 5.1 and Spanish', async () => {
    const ladder = scaledDown(comedyUhdLadder);
    const run = await runBridge({ ladder, fps: '30', size: '320x180', seconds: 13, audio: 'full' });
    expect(
      run.log.filter((l) => /skipped|unexpectedly|rejected/.test(l)),
      run.log.join('\n'),
    ).toEqual([]);
    const inits = describeInits(run);
    expect(inits.h2160).toMatchObject({ codec: expect.stringMatching(/^hvc1\.1\.6\.L\d+/), timescale: 90_000 });
    expect(inits.v1080).toMatchObject({ codec: expect.stringMatching(/^avc1\./), timescale: 90_000 });
    expect(inits.aen).toMatchObject({ codec: 'mp4a.40.2', channels: 2, timescale: 48_000 });
    expect(inits.aen51).toMatchObject({ codec: 'ec-3', channels: 6, timescale: 48_000 });
    expect(inits.aes).toMatchObject({ codec: 'mp4a.40.2', channels: 2 });
    checkEpochLocking(run, { h2160: 3000, v1080: 3000 });
    checkContent(run);
  }, 120_000);

  it('sports-hd at 59.94 fps: renditions whose language or 5.1 the feed lacks are skipped, never faked', async () => {
    const ladder = scaledDown(sportsHdLadder);
    const run = await runBridge({ ladder, fps: '60000/1001', size: '320x180', seconds: 13, audio: 'full' });
    expect(run.log.filter((l) => /skipped/.test(l)).sort()).toEqual([
      'audio rendition ade skipped: no source audio stream in language "de"',
      'audio rendition aes51 skipped: needs 6 channels; the "es" source has 2 (never up-mixed)',
      'audio rendition afr skipped: no source audio stream in language "fr"',
    ]);
    expect([...run.inits.keys()].sort()).toEqual(['aen', 'aen51', 'aes', 'h1080', 'v1080']);
    const inits = describeInits(run);
    expect(inits.h1080).toMatchObject({ codec: expect.stringMatching(/^hvc1\./), timescale: 60_000 });
    expect(inits.v1080).toMatchObject({ codec: expect.stringMatching(/^avc1\./), timescale: 60_000 });
    expect(inits.aen51).toMatchObject({ codec: 'ec-3', channels: 6 });
    checkEpochLocking(run, { h1080: 1001, v1080: 1001 });
    checkContent(run);
  }, 120_000);
});

/** Codec string, timescale and channels as mp4box reads them; E-AC-3 channels from dec3 (acmod + lfeon). */
function describeInits(run: BridgeRunResult): Record<string, { codec: string; timescale: number; channels?: number }> {
  const out: Record<string, { codec: string; timescale: number; channels?: number }> = {};
  for (const [track, init] of run.inits) {
    // mp4box reports tracks once it has seen media: the init and the first segment
    const first = [...run.segments.get(track)!.values()][0].body;
    const file = createFile();
    file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(new Uint8Array(Buffer.concat([init, first])).buffer, 0));
    file.flush();
    const info = file.getInfo().tracks[0] as any;
    let channels: number | undefined = info.audio?.channel_count;
    const entry = (file as any).moov.traks[0].mdia.minf.stbl.stsd.entries[0];
    const dec3 = entry.boxes?.find((b: { type: string }) => b.type === 'dec3');
    if (dec3) channels = [2, 1, 2, 3, 3, 4, 4, 5][dec3.ind_subs[0].acmod] + dec3.ind_subs[0].lfeon;
    out[track] = { codec: info.codec, timescale: info.timescale, channels };
  }
  return out;
}

/** Video: sync start, tfdt in [K·D, K·D + frame). Audio: on the codec's frame grid from the epoch, within one frame after K·D. All: contiguous. */
function checkEpochLocking(run: BridgeRunResult, videoFrames: Record<string, number>): void {
  for (const [track, segments] of run.segments) {
    const init = run.inits.get(track)!;
    const ks = [...segments.keys()].sort((a, b) => a - b);
    expect(ks.length, `${track} segments`).toBeGreaterThanOrEqual(4);
    const parsed = ks.map((k) => ({
      k,
      ...parseWithMp4box(init, segments.get(k)!.body),
      defects: segments.get(k)!.defects,
    }));
    const frame = videoFrames[track] ?? (parsed[0].codec === 'ec-3' ? 1536 : 1024);
    for (const [i, s] of parsed.entries()) {
      const boundary = s.k * (D / 1000) * s.timescale;
      expect(s.defects, `${track}/${s.k}`).toBeUndefined();
      expect(s.baseMediaDecodeTime - boundary, `${track}/${s.k} tfdt offset`).toBeGreaterThanOrEqual(0);
      expect(s.baseMediaDecodeTime - boundary, `${track}/${s.k} tfdt offset`).toBeLessThan(frame);
      if (track in videoFrames) expect(s.firstIsSync, `${track}/${s.k} sync start`).toBe(true);
      else expect(s.baseMediaDecodeTime % frame, `${track}/${s.k} on the ${frame}-sample grid`).toBe(0);
      const next = parsed[i + 1];
      if (next?.k === s.k + 1) expect(s.baseMediaDecodeTime + s.duration).toBe(next.baseMediaDecodeTime);
    }
  }
}

/** Each rendition carries its language's sines: Spanish is not English, 5.1 channels stay in place. */
function checkContent(run: BridgeRunResult): void {
  const dominant = (track: string, candidates: number[]) => {
    const [_k, seg] = [...run.segments.get(track)!][1];
    const pcm = decode(run.inits.get(track)!, seg.body);
    return pcm.map((ch) =>
      candidates.reduce((best, f) => (goertzel(ch, f) > goertzel(ch, best) ? f : best), candidates[0]),
    );
  };
  const all = [...ENGLISH_51, ...SPANISH];
  expect(dominant('aen51', all)).toEqual(ENGLISH_51);
  expect(dominant('aes', all)).toEqual(SPANISH);
  // the stereo English rendition is a down-mix of the 5.1: left and right keep their own fronts
  const [left, right] = dominant('aen', [440, 550, 500, 600]);
  expect([left, right]).toEqual([440, 550]);
}

/** Decode init + one segment with ffmpeg into per-channel float samples. */
function decode(init: Uint8Array, segment: Uint8Array): Float32Array[] {
  const input = Buffer.concat([init, segment]);
  const probe = spawnSync(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'stream=channels', '-of', 'csv=p=0', '-i', 'pipe:0'],
    { input },
  );
  const channels = parseInt(String(probe.stdout), 10);
  const out = spawnSync('ffmpeg', ['-v', 'error', '-f', 'mp4', '-i', 'pipe:0', '-f', 'f32le', '-'], {
    input,
    maxBuffer: 64 * 1024 * 1024,
  });
  const all = new Float32Array(out.stdout.buffer, out.stdout.byteOffset, out.stdout.byteLength / 4);
  return Array.from({ length: channels }, (_, c) =>
    Float32Array.from({ length: Math.floor(all.length / channels) }, (_, i) => all[i * channels + c]),
  );
}

/** Power of one frequency in a 48 kHz signal. */
function goertzel(x: Float32Array, freq: number): number {
  const w = (2 * Math.PI * freq) / 48_000;
  const c = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (const v of x) {
    const s0 = v + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - c * s1 * s2;
}
