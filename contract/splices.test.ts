import { describe, expect, test } from 'vitest';
import { defaultEventConfig } from './event-config.ts';
import { fromBase64, parseSpliceSection } from './scte35-section.ts';
import {
  manifestSplices,
  SPLICE_PREROLL_MS,
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
    expect(parseSpliceSection(spliceInSection(splice))).toMatchObject({
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

describe('manifestSplices: which breaks a manifest announces (origin, HLS and DASH alike)', () => {
  const D = 2000;
  const K = Date.UTC(2026, 11, 2, 12) / D;
  // Listed: segments K … K+9, so the window is [K·D, (K+10)·D + the pre-roll).
  const listing = {
    config: { ...defaultEventConfig, segmentDurationMs: D },
    firstSegment: K,
    lastSegmentByTrack: { v360: K + 9, aen: K + 8 },
  };
  const start = K * D;
  const end = (K + 10) * D + SPLICE_PREROLL_MS;
  const breakAt = (outAt: number, id: number, durationSeconds = 30) =>
    spliceFromPost(SplicePost.parse({ durationSeconds, id }), 'operator', outAt);
  const ids = (splices: Splice[]) => splices.map((s) => s.id);

  test('a break whose OUT is exactly the window start is announced; one whose IN is exactly the start is over', () => {
    const atStart = breakAt(start, 1);
    const endedAtStart = breakAt(start - 30_000, 2);
    expect(ids(manifestSplices([endedAtStart, atStart], listing))).toEqual([1]);
  });

  test('a break whose OUT is before the window and whose IN is inside it is announced (a player joins mid-break)', () => {
    const running = breakAt(start - 10_000, 3);
    const endsOneMsIn = breakAt(start - 29_999, 4);
    expect(ids(manifestSplices([running, endsOneMsIn], listing))).toEqual([3, 4]);
  });

  test("a break whose OUT is exactly the window's end waits for a later manifest; one a millisecond earlier is announced", () => {
    expect(ids(manifestSplices([breakAt(end - 1, 5), breakAt(end, 6)], listing))).toEqual([5]);
    // The next manifest lists one more segment: the break is in its pre-roll.
    const later = { ...listing, lastSegmentByTrack: { v360: K + 10, aen: K + 10 } };
    expect(ids(manifestSplices([breakAt(end, 6)], later))).toEqual([6]);
  });

  test("a scheduled next event ends the window at its atK·D (this event's media stops there), pre-roll or not", () => {
    const next = { eventId: 'after', atK: K + 10 };
    const before = breakAt((K + 10) * D - 1, 7);
    const atTakeOver = breakAt((K + 10) * D, 8);
    expect(ids(manifestSplices([before, atTakeOver], listing))).toEqual([7, 8]);
    expect(ids(manifestSplices([before, atTakeOver], { ...listing, next }))).toEqual([7]);
  });

  test('nothing listed yet: the first segment and the pre-roll after it', () => {
    const empty = { ...listing, lastSegmentByTrack: {} };
    const inPreRoll = breakAt((K + 1) * D + SPLICE_PREROLL_MS - 1, 9);
    expect(ids(manifestSplices([inPreRoll, breakAt((K + 1) * D + SPLICE_PREROLL_MS, 10)], empty))).toEqual([9]);
  });
});
