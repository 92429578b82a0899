/**
 * The checked-in CEA-608 feed (testdata/media/cc608-….mpegts, made by npm run testdata the way the
 * synthetic source makes its captions) read without ffmpeg: the TS reader finds one A/53 pair per
 * picture at PTS = UTC, and the CC1 decoder gives back the demo captioner's cues on UTC.
 * cc1-captions.e2e.test.ts does the same on a fresh live-clock encode (and with B-frames).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { wrapPts } from '../../contract/epoch.ts';
import { testdataFile } from '../../test/media.ts';
import { CC608_FIXTURE } from '../../test/media-options.ts';
import { demoCueText } from '../synthetic-captions.ts';
import { TS_PACKET_SIZE } from '../ts-timestamps.ts';
import { Cc1Captions } from './cc1-captions.ts';
import type { DecodedCue } from './cc1-decoder.ts';
import { type PictureCc, TsCcReader } from './ts-cc-reader.ts';

const { t0, seconds } = CC608_FIXTURE;
const t0Ms = t0 * 1000;
const pictures = Math.ceil((seconds * 30000) / 1001);
/**
 * Picture n's PTS, in 90 kHz ticks after t0. ffmpeg's muxer regenerates raw H.264 timestamps
 * (+genpts) in whole microseconds, 33367 µs per 29.97 picture instead of 33366.67, so the PTS
 * run 0.03 ticks per picture ahead of n·3003 (6 ticks after 7 s; 36 ms an hour). The synthetic
 * source's --cc608 path muxes the same way.
 */
const ptsTicks = (n: number) => Math.round(n * 33367 * 0.09);
const pictureMs = (n: number) => Math.round(ptsTicks(n) / 90);
/** The first picture at or after `ms` after t0. */
const firstPictureAt = (ms: number) => Math.ceil((ms * 30) / 1001);

let feed: Uint8Array;
beforeAll(async () => {
  feed = await testdataFile(CC608_FIXTURE.name);
});

describe('the CEA-608 testdata feed', () => {
  it('carries one field-1 pair per picture, on the video PTS = UTC × 90 kHz', () => {
    expect(feed.byteLength % TS_PACKET_SIZE).toBe(0);
    const seen: PictureCc[] = [];
    const reader = new TsCcReader({ onPicture: (p) => seen.push(p) });
    reader.push(feed);
    reader.flush();
    expect(seen.length).toBe(pictures);
    expect(seen.map((p) => p.pts)).toEqual(
      Array.from({ length: pictures }, (_, n) => wrapPts(t0 * 90_000 + ptsTicks(n))),
    );
    expect(ptsTicks(pictures - 1) - (pictures - 1) * 3003).toBe(6);
    expect(seen.every((p) => p.pairs.length === 1)).toBe(true);
  });

  it("decodes to the demo captioner's cues, each from the first picture at or after its UTC second", () => {
    const cues: DecodedCue[] = [];
    const cc = new Cc1Captions({ segmentDurationMs: 2000, now: () => t0Ms, onCue: (c) => cues.push(c) });
    // Chunks that cut packets, as HTTP push delivers them, are aligned by the bridge first; here whole packets.
    for (let o = 0; o < feed.byteLength; o += 7 * TS_PACKET_SIZE) cc.push(feed.subarray(o, o + 7 * TS_PACKET_SIZE));
    cc.endOfFeed();
    // Captions every 2 s on the UTC grid. The one at t0 is never sent (its load would start
    // before picture 0); the one at t0 + 6 s is still on screen when the 7 s feed ends.
    const at = (s: number) => t0Ms + pictureMs(firstPictureAt(s * 1000));
    expect(cues).toEqual([
      { startMs: at(2), endMs: at(4), text: demoCueText('en', t0Ms + 2000) },
      { startMs: at(4), endMs: at(6), text: demoCueText('en', t0Ms + 4000) },
    ]);
    expect(cues.map((c) => [c.startMs - t0Ms, c.endMs - t0Ms, c.text])).toEqual([
      [2002, 4004, 'It is 08:00:02 UTC'],
      [4004, 6006, 'It is 08:00:04 UTC'],
    ]);
    expect(cc.counters).toMatchObject({ picturesWithCc: pictures, extracted: 2, unfinished: 1, videoPidChanges: 0 });
  });
});
