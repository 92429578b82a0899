/**
 * Extraction from a real feed (the synthetic source with CEA-608, made by ffmpeg): the bridge's
 * reader and decoder must give back exactly the captioner's cues on UTC, [t, t + 2 s) "It is t",
 * however the bytes are chunked, and a bridge that joins mid-caption must post no fragment.
 */
import { execFileSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCueText } from '../synthetic-captions.ts';
import { TsPacketAligner, TS_PACKET_SIZE, videoPtsValues } from '../ts-timestamps.ts';
import { Cc1Captions } from './cc1-captions.ts';
import type { DecodedCue } from './cc1-decoder.ts';
import { writeCc608Feed } from './cc608-fixture.ts';

let feed: { file: string; t0: number; bytes: Uint8Array };

beforeAll(async () => {
  const { file, t0 } = await writeCc608Feed({ fps: '30', seconds: 11 });
  feed = { file, t0, bytes: new Uint8Array(await readFile(file)) };
});
afterAll(async () => {
  if (feed) await rm(dirname(feed.file), { recursive: true, force: true });
});

/** Feed bytes in chunks of varying size, as HTTP push delivers them. */
function extract(bytes: Uint8Array, nowMs: number): { cues: DecodedCue[]; counters: Cc1Captions['counters'] } {
  const cues: DecodedCue[] = [];
  const cc = new Cc1Captions({ segmentDurationMs: 2000, now: () => nowMs, onCue: (c) => cues.push(c) });
  const aligner = new TsPacketAligner();
  for (let o = 0, n = 0; o < bytes.length; n++) {
    const size = [1000, 7 * 188, 65_536, 333][n % 4];
    cc.push(aligner.push(bytes.subarray(o, o + size)));
    o += size;
  }
  cc.endOfFeed();
  return { cues, counters: cc.counters };
}

/** The captioner's cues between two UTC instants (ms): on the 2 s grid, each naming its start. */
function demoCues(fromMs: number, toMs: number): DecodedCue[] {
  const out: DecodedCue[] = [];
  for (let t = Math.ceil(fromMs / 2000) * 2000; t + 2000 <= toMs; t += 2000)
    out.push({ startMs: t, endMs: t + 2000, text: demoCueText('en', t) });
  return out;
}

describe('CC1 extraction from the feed', () => {
  it("gives the captioner's cues on UTC, to the millisecond", () => {
    const t0Ms = feed.t0 * 1000;
    const { cues, counters } = extract(feed.bytes, Date.now());
    // Every caption whose load and end are in the 11 s feed (one at t0 is never sent; the last
    // picture is at 10.967 s).
    expect(cues).toEqual(demoCues(t0Ms + 1, t0Ms + 10_999));
    expect(cues.length).toBeGreaterThanOrEqual(4);
    expect(counters.picturesWithCc).toBe(330);
  });

  it('unwraps the 33-bit PTS with the local clock, hours away from the feed', () => {
    const t0Ms = feed.t0 * 1000;
    expect(extract(feed.bytes, Date.now() + 10 * 3_600_000).cues).toEqual(demoCues(t0Ms + 1, t0Ms + 10_999));
  });

  it('reads captions in presentation order from a feed with B-frames', () => {
    // libx264 writes the A/53 data of each input frame (ffmpeg's a53cc) into its SEI, in decode
    // order; with B-frames that is not the order the pairs must be decoded in.
    const bframes = join(dirname(feed.file), 'bframes.ts');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-i',
      feed.file,
      '-map',
      '0',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-bf',
      '3',
      '-g',
      '30',
      '-enc_time_base',
      '1/90000',
      '-c:a',
      'copy',
      '-copyts',
      '-muxdelay',
      '0',
      '-muxpreload',
      '0',
      '-f',
      'mpegts',
      bframes,
    ]);
    const types = execFileSync(
      'ffprobe',
      ['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=pict_type', '-of', 'csv=p=0', bframes],
      { encoding: 'utf8' },
    );
    expect(types).toMatch(/B/);
    const t0Ms = feed.t0 * 1000;
    return readFile(bframes).then((bytes) =>
      expect(extract(new Uint8Array(bytes), Date.now()).cues).toEqual(demoCues(t0Ms + 1, t0Ms + 10_999)),
    );
  });

  it('joining mid-caption posts no fragment: only cues seen whole', () => {
    const t0Ms = feed.t0 * 1000;
    const full = demoCues(t0Ms + 1, t0Ms + 10_999);
    // Cut the feed a few pictures before the second caption appears, in the middle of its load.
    const cutPts = ((full[1].startMs - 200) * 90) % 2 ** 33;
    let offset = 0;
    while (
      offset < feed.bytes.length &&
      !videoPtsValues(feed.bytes.subarray(offset, offset + TS_PACKET_SIZE)).some((p) => p >= cutPts)
    )
      offset += TS_PACKET_SIZE;
    const { cues } = extract(feed.bytes.subarray(offset + 1000), Date.now());
    // The caption loading at the cut and the one on screen are dropped; the rest are exact.
    expect(cues).toEqual(full.slice(2));
  });
});
