import { beforeAll, describe, expect, it } from 'vitest';
import { loadMedia, type Media, segmentFor } from '../../test/media.ts';
import { walkBoxes } from './box-walk.ts';
import { mutateJson } from './mutate-json.ts';
import { mutateMedia } from './mutate-media.ts';
import { mutateWebVtt } from './mutate-text.ts';
import { rngFor } from './rng.ts';

let video: Media;
let segment: Uint8Array;
beforeAll(async () => {
  video = await loadMedia({ kind: 'video' });
  segment = segmentFor(video, 1000, 2000);
});

const CONTROL = { pipeline: 'B', fromK: 10, toK: 20 };
const VTT = 'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n00:00:00.500 --> 00:00:01.000\nhi\n';

describe('the fuzzer replays: mutation i depends on (seed, i) only', () => {
  it('the same seed and index give the same bytes and the same description, whatever ran before', () => {
    const draw = (i: number) => mutateMedia(rngFor('s', i), segment, [video.init]);
    const first = draw(7);
    for (let i = 0; i < 50; i++) draw(i);
    mutateJson(rngFor('s', 3), CONTROL);
    expect(draw(7)).toEqual(first);
    expect(mutateMedia(rngFor('t', 7), segment, [video.init])).not.toEqual(first);
    expect(mutateJson(rngFor('s', 9), CONTROL)).toEqual(mutateJson(rngFor('s', 9), CONTROL));
    expect(mutateWebVtt(rngFor('s', 9), VTT)).toEqual(mutateWebVtt(rngFor('s', 9), VTT));
  });

  it('never changes its input (nor the values it draws from)', () => {
    const copy = segment.slice();
    const json = structuredClone(CONTROL);
    for (let i = 0; i < 300; i++) {
      mutateMedia(rngFor('s', i), segment, [video.init]);
      mutateJson(rngFor('s', i), CONTROL);
    }
    expect(segment).toEqual(copy);
    expect(CONTROL).toEqual(json);
    // Drawing a shared value (an object, an array) and editing inside it must not leak into later draws.
    const again = Array.from({ length: 300 }, (_, i) => mutateJson(rngFor('s', i), CONTROL));
    expect(Array.from({ length: 300 }, (_, i) => mutateJson(rngFor('s', i), CONTROL))).toEqual(again);
  });
});

describe('the fuzzer covers every kind of damage', () => {
  it('media: every operation shows up in 2,000 draws, and the bytes change', () => {
    const ops: string[] = [];
    let unchanged = 0;
    for (let i = 0; i < 2000; i++) {
      const m = mutateMedia(rngFor('cover', i), i % 2 ? segment : video.init, [video.init, segment]);
      ops.push(...m.ops);
      if (m.bytes.byteLength === segment.byteLength && m.bytes.every((b, j) => b === (i % 2 ? segment : video.init)[j]))
        unchanged++;
    }
    const kinds = ops.join('\n');
    for (const kind of [
      /^flip bits/m,
      /^byte/m,
      /^u32 at/m,
      /^insert/m,
      /^delete/m,
      /size/m,
      /64-bit size/m,
      /^truncate/m,
      /^splice/m,
      /field at/m,
      /version/m,
      /flags/m,
      /^duplicate/m,
      /^remove/m,
      /^swap/m,
      /^cut the last/m,
      /^trun/m,
      /^tfhd/m,
    ])
      expect(kinds).toMatch(kind);
    expect(unchanged).toBeLessThan(20);
  });

  it('walkBoxes finds the boxes a mutation aims at, inside sample entries too', () => {
    const types = walkBoxes(video.init).map((b) => b.type);
    expect(types).toEqual(expect.arrayContaining(['ftyp', 'moov', 'trak', 'stsd', 'avc1', 'avcC', 'trex']));
    expect(walkBoxes(segment).map((b) => b.type)).toEqual(
      expect.arrayContaining(['moof', 'traf', 'tfhd', 'trun', 'mdat']),
    );
    // Damaged input: it stops where the bytes stop making sense, without throwing.
    expect(() => walkBoxes(segment.subarray(0, 50))).not.toThrow();
  });
});
