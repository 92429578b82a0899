/**
 * Epoch locking at every broadcast frame rate (issue 3, item 2), with real parts: the synthetic
 * source (faster than real time) → a real Pipeline and ffmpeg → a local ingest sink, read back
 * with mp4box. Over 30 consecutive segments: each video segment starts on a sync sample with
 * tfdt in [K·D, K·D + one frame), the 30 durations add up to exactly tfdt(K+30) − tfdt(K), which
 * is 30·D within one frame (the average is D), and audio segments start on the first AAC frame
 * at or after K·D.
 */
import { describe, expect, it } from 'vitest';
import { Ladder } from '../contract/ladder.ts';
import { runBridge } from '../test/bridge-run.ts';
import { parseWithMp4box } from '../test/mp4box-inspect.ts';

const D = 2000;
const SEGMENTS = 30;
// One tiny rung and stereo AAC keep five runs within a couple of minutes on 2 cores.
const ladder = Ladder.parse({
  name: 'fps-test',
  video: [{ id: 'v', width: 256, height: 144, bitrateKbps: 150, preset: 'ultrafast', profile: 'baseline' }],
  audio: [{ id: 'a', bitrateKbps: 64 }],
});

// rate → video timescale and exact frame duration in it (docs/architecture.md, "Video timescale")
const RATES: [fps: string, timescale: number, frame: number][] = [
  ['25', 90_000, 3600],
  ['30000/1001', 90_000, 3003],
  ['30', 90_000, 3000],
  ['50', 90_000, 1800],
  ['60000/1001', 60_000, 1001],
];

describe('epoch-locked segments at every frame rate', () => {
  it.each(RATES)(
    '%s fps',
    async (fps, timescale, frame) => {
      // 31 whole segments after a start of up to D + lead-in, and a dropped partial one at the end
      const run = await runBridge({ ladder, fps, size: '320x180', seconds: SEGMENTS * 2 + 7 });
      const problems = run.log.filter((l) => /unexpectedly|rejected|gave up/.test(l));
      expect(problems, run.log.join('\n')).toEqual([]);

      const video = parseTrack(run, 'v');
      const ks = [...video.keys()].sort((a, b) => a - b);
      expect(ks.length, `video segments ${ks.join(',')}`).toBeGreaterThanOrEqual(SEGMENTS + 1);
      const k0 = ks[0];
      const window = Array.from({ length: SEGMENTS + 1 }, (_, i) => k0 + i);
      expect(
        window.every((k) => video.has(k)),
        `consecutive from ${k0}: ${ks.join(',')}`,
      ).toBe(true);
      const perSegment = (D / 1000) * timescale;
      let sum = 0;
      for (const k of window.slice(0, SEGMENTS)) {
        const s = video.get(k)!;
        expect(s.timescale).toBe(timescale);
        expect(s.firstIsSync, `segment ${k} starts on a sync sample`).toBe(true);
        expect(s.defects).toBeUndefined();
        expect(s.baseMediaDecodeTime - k * perSegment, `segment ${k} tfdt offset`).toBeGreaterThanOrEqual(0);
        expect(s.baseMediaDecodeTime - k * perSegment, `segment ${k} tfdt offset`).toBeLessThan(frame);
        // every sample lasts exactly one frame: no 1501/1502 alternation at 59.94
        expect(s.duration).toBe(s.sampleCount * frame);
        sum += s.duration;
      }
      const span = video.get(k0 + SEGMENTS)!.baseMediaDecodeTime - video.get(k0)!.baseMediaDecodeTime;
      expect(sum).toBe(span);
      expect(Math.abs(span - SEGMENTS * perSegment)).toBeLessThan(frame);

      const audio = parseTrack(run, 'a');
      const aks = window.filter((k) => audio.has(k));
      expect(aks.length).toBe(SEGMENTS + 1);
      let audioSum = 0;
      for (const k of aks.slice(0, SEGMENTS)) {
        const s = audio.get(k)!;
        expect(s.timescale).toBe(48_000);
        expect(s.baseMediaDecodeTime % 1024, `audio segment ${k} on the AAC frame grid`).toBe(0);
        expect(s.baseMediaDecodeTime - k * 96_000).toBeGreaterThanOrEqual(0);
        expect(s.baseMediaDecodeTime - k * 96_000).toBeLessThan(1024);
        audioSum += s.duration;
      }
      expect(audioSum).toBe(audio.get(k0 + SEGMENTS)!.baseMediaDecodeTime - audio.get(k0)!.baseMediaDecodeTime);
    },
    150_000,
  );
});

function parseTrack(run: Awaited<ReturnType<typeof runBridge>>, track: string) {
  const init = run.inits.get(track);
  if (!init) throw new Error(`no init for ${track}\n${run.log.join('\n')}`);
  const out = new Map<number, ReturnType<typeof parseWithMp4box> & { defects?: string }>();
  for (const [k, s] of run.segments.get(track) ?? [])
    out.set(k, { ...parseWithMp4box(init, s.body), defects: s.defects });
  return out;
}
