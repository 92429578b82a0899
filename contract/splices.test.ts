import { describe, expect, test } from 'vitest';
import { fromBase64, parseSpliceSection } from './scte35-section.ts';
import {
  sectionProblem,
  snapToBoundary,
  Splice,
  SplicePost,
  spliceFromPost,
  spliceInSection,
  spliceOnBoundary,
} from './splices.ts';

const NOW = Date.parse('2026-12-02T12:00:00.400Z');

describe('splices', () => {
  test("an operator's immediate splice: id from the second, a splice_insert OUT with its time and duration", () => {
    const splice = spliceFromPost(SplicePost.parse({ durationSeconds: 30 }), 'operator', NOW);
    expect(splice).toMatchObject({ id: Math.floor(NOW / 1000) % 2 ** 32, outAt: NOW, durationMs: 30_000 });
    expect(Splice.parse(splice)).toEqual(splice);
    const section = parseSpliceSection(fromBase64(splice.scte35));
    expect(section).toMatchObject({
      command: 'splice_insert',
      spliceEventId: splice.id,
      outOfNetwork: true,
      ptsTime: Math.round(NOW * 90) % 2 ** 33,
      breakDuration: 30 * 90_000,
    });
    expect(sectionProblem(splice)).toBeUndefined();
  });

  test('the same request gives the same splice (a retry, or the other pipeline)', () => {
    const post = SplicePost.parse({ at: '2026-12-02T12:01:00Z', durationSeconds: 15, id: 42 });
    expect(spliceFromPost(post, 'feed', NOW)).toEqual(spliceFromPost(post, 'feed', NOW + 5000));
  });

  test('the IN section ends the same splice at outAt + duration', () => {
    const splice = spliceFromPost(SplicePost.parse({ durationSeconds: 30, id: 9 }), 'operator', NOW);
    expect(parseSpliceSection(fromBase64(spliceInSection(splice)))).toMatchObject({
      spliceEventId: 9,
      outOfNetwork: false,
      ptsTime: Math.round((NOW + 30_000) * 90) % 2 ** 33,
    });
  });

  test('bad bodies are refused, naming the field', () => {
    const bad = [
      {},
      { durationSeconds: 0 },
      { durationSeconds: 30, at: 'tomorrow' },
      { durationSeconds: 30, id: -1 },
      { durationSeconds: 30, id: 2 ** 32 },
      { durationSeconds: 30, scte35: 'not base64!' },
      { durationSeconds: 30, colour: 'red' },
    ];
    for (const body of bad) expect(SplicePost.safeParse(body).success, JSON.stringify(body)).toBe(false);
  });

  test("a feed section whose splice_event_id is not the splice's id, or that is damaged, is a problem", () => {
    const splice = spliceFromPost(SplicePost.parse({ durationSeconds: 30, id: 9 }), 'feed', NOW);
    expect(sectionProblem({ ...splice, id: 10 })).toMatch(/splice_event_id 9 is not id 10/);
    expect(sectionProblem({ ...splice, scte35: 'AAAA' })).toMatch(/too short/);
  });

  test('snapping moves a splice to the next segment boundary, and leaves one on a boundary', () => {
    expect(snapToBoundary(NOW, 2000)).toBe(Date.parse('2026-12-02T12:00:02Z'));
    expect(snapToBoundary(Date.parse('2026-12-02T12:00:02Z'), 2000)).toBe(Date.parse('2026-12-02T12:00:02Z'));
  });

  test('on boundaries: OUT at the next K·D, IN at the boundary after its end, the section written again', () => {
    const feed = spliceFromPost(SplicePost.parse({ durationSeconds: 30, id: 5 }), 'feed', NOW);
    const snapped = spliceOnBoundary(feed, 2000);
    expect(snapped).toMatchObject({
      id: 5,
      source: 'feed',
      outAt: Date.parse('2026-12-02T12:00:02Z'),
      durationMs: 30_000,
    });
    expect(parseSpliceSection(fromBase64(snapped.scte35))).toMatchObject({
      spliceEventId: 5,
      ptsTime: Math.round(snapped.outAt * 90) % 2 ** 33,
      breakDuration: 30 * 90_000,
    });
    // 29.5 s from 12:00:00.400 ends at 12:00:29.900: the IN moves to 12:00:30, 28 s after the OUT.
    const short = spliceFromPost(SplicePost.parse({ durationSeconds: 29.5, id: 6 }), 'operator', NOW);
    expect(spliceOnBoundary(short, 2000)).toMatchObject({ durationMs: 28_000 });
    expect(spliceOnBoundary(snapped, 2000)).toBe(snapped);
  });
});
