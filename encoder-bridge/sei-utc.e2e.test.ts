/**
 * UTC in SEI (issue 14, must-have 2), with real parts: the synthetic source recorded twice from
 * the same T0, frame rate and grid offset, once with UTC in the PTS (the two-ffmpeg layout, as
 * `--cc608 on` runs it) and once with `--utc-carrier sei`: every picture carries its UTC in a
 * user_data_unregistered SEI and the PTS starts near 0, or near the 33-bit wrap so that it wraps
 * mid-feed. Two real Pipelines with real ffmpeg encode them; mp4box reads back what they publish.
 * For every K: the same K, tfdt, sample count and duration, a keyframe first, on every track, and
 * identical inits; /status says which carrier each used; ffprobe finds the SEI on every picture. A feed whose PTS is 3 h off the clock
 * and has no SEI is refused: status, one log line, no ffmpeg, nothing published.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Ladder } from '../contract/ladder.ts';
import { wrapPts } from '../contract/epoch.ts';
import { recordSource, runBridgeOnFeed } from '../test/bridge-run.ts';
import { parseWithMp4box } from '../test/mp4box-inspect.ts';
import { TsCcReader } from './cea608/ts-cc-reader.ts';
import { utcOfSeiNal } from './sei-utc.ts';
import { MAX_PTS_START_MS } from './source-args.ts';
import { videoFrameTimes } from './ts-timestamps.ts';

const SECONDS = 16;
// One tiny rung and stereo AAC: both kinds of track, little CPU on 2 shared cores.
const ladder = Ladder.parse({
  name: 'sei-utc-test',
  video: [{ id: 'v1', width: 256, height: 144, bitrateKbps: 150, preset: 'ultrafast', profile: 'baseline' }],
  audio: [{ id: 'a', bitrateKbps: 64 }],
});

/** Each picture's PTS and the UTC its SEI carries, in stream order, read as the bridge reads them. */
function seiStamps(feed: Uint8Array): { pts: number; utc: number | undefined }[] {
  const out: { pts: number; utc: number | undefined }[] = [];
  const reader = new TsCcReader({
    onPicture: () => {},
    onSei: (pts, nals) => out.push({ pts, utc: nals.map(utcOfSeiNal).find((u) => u !== undefined) }),
  });
  reader.push(feed);
  reader.flush();
  return out;
}

describe('UTC carried in SEI numbers exactly like UTC in the PTS', () => {
  it.each([
    { fps: '30', grid: 1499, captions: true, ptsStartMs: 0, what: 'PTS from 0' },
    {
      fps: '30000/1001',
      grid: 2999,
      captions: false,
      ptsStartMs: MAX_PTS_START_MS - 7000,
      what: 'PTS wrapping 7 s in',
    },
  ])(
    '$fps fps, grid $grid ticks, captions $captions, $what',
    async ({ fps, grid, captions, ptsStartMs }) => {
      const t0 = Math.ceil(Date.now() / 1000);
      const common = { t0, fps, size: '320x180', durationSeconds: SECONDS, gridOffsetTicks: grid };
      const [ptsFeed, seiFeed] = await Promise.all([
        recordSource({ ...common, cc608: true }),
        recordSource({ ...common, cc608: captions, utcCarrier: 'sei', ptsStartMs }),
      ]);
      // The SEI feed's PTS is not UTC: it starts where asked (ffmpeg moves it up to the audio
      // priming, 1,920 ticks, when starting at 0) and, near 2^33, wraps.
      const seiPts = videoFrameTimes(seiFeed.bytes).map((f) => f.pts);
      expect(wrapPts(seiPts[0] - ptsStartMs * 90 - grid)).toBeLessThan(2000);
      const wraps = seiPts.filter((p, i) => i > 0 && p < seiPts[i - 1]).length;
      expect(wraps).toBe(ptsStartMs === 0 ? 0 : 1);
      // Each picture's SEI carries exactly the PTS the PTS carrier gave the same picture.
      const stamps = seiStamps(seiFeed.bytes);
      const ptsCarrier = videoFrameTimes(ptsFeed.bytes).map((f) => f.pts);
      expect(stamps.length).toBe(ptsCarrier.length);
      expect(stamps.map((s) => (s.utc === undefined ? undefined : wrapPts(s.utc)))).toEqual(ptsCarrier);
      // ffmpeg's own H.264 decoder, an independent reader, finds the SEI on every picture (and the captions beside it).
      const probe = spawnSync(
        'ffprobe',
        ['-v', 'error', '-select_streams', 'v:0', '-show_frames', '-of', 'json', '-i', 'pipe:0'],
        { input: seiFeed.bytes, maxBuffer: 256 * 2 ** 20, encoding: 'utf8' },
      );
      const frames: { side_data_list?: { side_data_type: string }[] }[] = JSON.parse(probe.stdout).frames;
      const sideData = (type: string) =>
        frames.filter((f) => f.side_data_list?.some((s) => s.side_data_type === type)).length;
      expect(frames.length).toBe(ptsCarrier.length);
      expect(sideData('H.26[45] User Data Unregistered SEI message')).toBe(frames.length);
      expect(sideData('ATSC A53 Part 4 Closed Captions')).toBe(captions ? frames.length : 0);

      const [a, b] = await Promise.all([
        runBridgeOnFeed({ ladder, feed: ptsFeed.bytes, pipeline: 'A' }),
        runBridgeOnFeed({ ladder, feed: seiFeed.bytes, pipeline: 'B' }),
      ]);
      const logs = `PTS carrier:\n${a.log.join('\n')}\nSEI carrier:\n${b.log.join('\n')}`;
      expect(a.status, logs).toMatchObject({ utcCarrier: 'pts', refusal: null });
      expect(b.status, logs).toMatchObject({ utcCarrier: 'sei', refusal: null, seiMismatches: 0 });
      expect(
        b.log.filter((l) => l.startsWith("UTC from the feed's SEI")),
        logs,
      ).toHaveLength(1);
      for (const track of ['v1', 'a']) {
        expect(Buffer.compare(a.inits.get(track)!, b.inits.get(track)!), `${track} init`).toBe(0);
        // Whole segments K (not parts K.n, which a chunked-CMAF bridge publishes besides).
        const ka = [...a.segments.get(track)!.keys()].filter(Number.isInteger).sort((x, y) => x - y);
        const kb = [...b.segments.get(track)!.keys()].filter(Number.isInteger).sort((x, y) => x - y);
        expect(kb, `${track}: the same K\n${logs}`).toEqual(ka);
        expect(ka.length, `${track}: K published`).toBeGreaterThanOrEqual(4);
        for (const k of ka) {
          const pa = parseWithMp4box(a.inits.get(track)!, a.segments.get(track)!.get(k)!.body);
          const pb = parseWithMp4box(b.inits.get(track)!, b.segments.get(track)!.get(k)!.body);
          expect(pb, `${track}/${k}`).toEqual(pa);
          expect(pa.firstIsSync, `${track}/${k} starts on a keyframe`).toBe(true);
        }
      }
      for (const run of [a, b])
        for (const p of run.puts) expect(p.defects, `${p.track}/${p.file} defects\n${logs}`).toBeUndefined();
    },
    150_000,
  );

  it('a feed with no usable UTC (PTS 3 h behind the clock, no SEI) is refused: status, one log line, nothing encoded', async () => {
    const stale = await recordSource({
      t0: Math.ceil(Date.now() / 1000) - 3 * 3600,
      fps: '30',
      size: '320x180',
      durationSeconds: 4,
    });
    const r = await runBridgeOnFeed({ ladder, feed: stale.bytes, pipeline: 'A' });
    const logs = r.log.join('\n');
    expect(r.status, logs).toMatchObject({
      state: 'refused',
      utcCarrier: 'pts',
      // The source is stamped from the whole second after now − 3 h: up to a second less than 3 h behind.
      refusal: expect.stringMatching(
        /^no usable UTC in the feed: .* is (2 h 59 min|3 h 0 min) \d+ s behind this bridge's clock/,
      ),
    });
    expect(
      r.log.filter((l) => l.startsWith('contribution refused: no usable UTC')),
      logs,
    ).toHaveLength(1);
    expect(
      r.log.filter((l) => l.startsWith('starting ffmpeg')),
      logs,
    ).toEqual([]);
    expect(r.puts).toEqual([]);
  }, 60_000);
});
