/**
 * Chunked CMAF parts and LL-HLS (docs/latency.md) against the real Worker and origin object:
 * part ingest and part answers with live-edge semantics, the LL-HLS media playlist read by an
 * independent parser (m3u8-parser), and every blocking-reload answer of RFC 8216bis §6.2.5.2.
 */
import { Parser } from 'm3u8-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { getBytes, ingestPut, randomEventId } from '../test/ingest-client.ts';
import { loadMedia, type Media, segmentFor } from '../test/media.ts';
import { codeOf, D, N, partsOf, put, url } from './ll-parts.test-helpers.ts';

let video: Media;
beforeAll(async () => {
  video = await loadMedia({ kind: 'video' });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parse(text: string) {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}

/**
 * An event with video tracks v1 and v2 (pipeline A): whole segments up to K−1, and parts 0 and 1
 * of K, the segment being made now.
 */
async function liveEvent(segments = 3) {
  const event = randomEventId('ll');
  const k = Math.floor(Date.now() / D);
  for (const track of ['v1', 'v2']) {
    expect(await put(event, `A/${track}/init.mp4`, video.init)).toBe(201);
    for (let j = k - segments; j < k; j++)
      expect(await put(event, `A/${track}/${j}.m4s`, segmentFor(video, j, D))).toBe(201);
    const parts = partsOf(video, k);
    for (const n of [0, 1]) expect(await put(event, `A/${track}/${k}.${n}.m4s`, parts[n])).toBe(201);
  }
  return { event, k };
}

const llPlaylist = (event: string, query = '') => fetch(`${url}/live/${event}/v1/index.m3u8?latency=low${query}`);

describe('part ingest and part answers', () => {
  it('stores a part (201, a retry 204) and serves the same bytes; refuses a part that is no moof/mdat', async () => {
    const { event, k } = await liveEvent(1);
    const parts = partsOf(video, k);
    expect(await put(event, `A/v1/${k}.1.m4s`, parts[1])).toBe(204);
    const { res, bytes } = await getBytes(`${url}/live/${event}/v1/${k}.1.m4s`);
    expect(res.status).toBe(200);
    expect(Buffer.from(bytes).equals(Buffer.from(parts[1]))).toBe(true);
    expect(res.headers.get('x-candidate')).toContain('pipeline=A');
    const bad = await ingestPut(url, `${event}/A/v1/${k}.2.m4s`, video.init);
    expect(bad.status).toBe(400);
    expect(await codeOf(bad)).toBe('MEDIA_NOT_SEGMENT');
    expect((await ingestPut(url, `${event}/A/v1/${k}.64.m4s`, parts[2])).status).toBe(400);
  });

  it('holds a request for the part being made until it is published; 404 far ahead; 410 past its deadline', async () => {
    const { event, k } = await liveEvent(1);
    const parts = partsOf(video, k);
    const held = getBytes(`${url}/live/${event}/v1/${k}.2.m4s`);
    await sleep(300);
    expect(await put(event, `A/v1/${k}.2.m4s`, parts[2])).toBe(201);
    const { res, bytes } = await held;
    expect(res.status).toBe(200);
    expect(Buffer.from(bytes).equals(Buffer.from(parts[2]))).toBe(true);

    const early = await fetch(`${url}/live/${event}/v1/${k + 3}.0.m4s`);
    expect(early.status).toBe(404);
    expect(await codeOf(early)).toBe('SEGMENT_NOT_YET_AVAILABLE');
    const gone = await fetch(`${url}/live/${event}/v1/${k - 3}.0.m4s`);
    expect(gone.status).toBe(410);
    expect(await codeOf(gone)).toBe('SEGMENT_GONE');
  });
});

describe('LL-HLS media playlist', () => {
  it('lists parts, a preload hint and rendition reports with the RFC 8216bis server control', async () => {
    const { event, k } = await liveEvent();
    const res = await llPlaylist(event);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('#EXT-X-VERSION:9');
    const m = parse(text);
    expect(m.serverControl.canBlockReload).toBe(true);
    expect(m.partInf.partTarget).toBeCloseTo(0.5, 2);
    expect(m.serverControl.partHoldBack).toBeGreaterThanOrEqual(3 * m.partInf.partTarget);
    expect(m.serverControl.canSkipUntil).toBeGreaterThanOrEqual(6 * m.targetDuration);
    // The segments K−3…K−1, then the parts of K so far.
    expect(m.mediaSequence).toBe(k - 3);
    expect(m.segments.map((s: { uri: string }) => s.uri)).toEqual([k - 3, k - 2, k - 1].map((j) => `${j}.m4s`));
    expect(m.preloadSegment.parts.map((p: { uri: string; independent?: boolean }) => [p.uri, p.independent])).toEqual([
      [`${k}.0.m4s`, true],
      [`${k}.1.m4s`, undefined],
    ]);
    for (const p of m.preloadSegment.parts) expect(p.duration).toBeLessThanOrEqual(m.partInf.partTarget);
    expect(m.preloadSegment.preloadHints).toEqual([{ type: 'PART', uri: `${k}.2.m4s` }]);
    expect(m.renditionReports).toEqual([{ uri: '../v2/index.m3u8?latency=low', lastMsn: k, lastPart: 1 }]);

    // The standard playlist stays as it was: no parts, no blocking.
    const standard = await (await fetch(`${url}/live/${event}/v1/index.m3u8`)).text();
    expect(standard).not.toContain('EXT-X-PART');
    expect(standard).not.toContain('CAN-BLOCK-RELOAD');
    // The multivariant playlist of `?latency=low` leads players to the LL playlists.
    const multivariant = await (await fetch(`${url}/live/${event}/index.m3u8?latency=low`)).text();
    expect(multivariant).toContain('v1/index.m3u8?latency=low');
  });

  it('a blocking reload is answered once the part it names is published', async () => {
    const { event, k } = await liveEvent();
    const asked = performance.now();
    const pending = llPlaylist(event, `&_HLS_msn=${k}&_HLS_part=2`);
    await sleep(400);
    expect(await put(event, `A/v1/${k}.2.m4s`, partsOf(video, k)[2])).toBe(201);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(performance.now() - asked).toBeGreaterThanOrEqual(350);
    const m = parse(await res.text());
    expect(m.preloadSegment.parts.map((p: { uri: string }) => p.uri)).toContain(`${k}.2.m4s`);
    expect(m.preloadSegment.preloadHints[0].uri).toBe(`${k}.3.m4s`);
    // Asking for a segment already there answers at once.
    const now = await llPlaylist(event, `&_HLS_msn=${k - 1}`);
    expect(now.status).toBe(200);
  });

  it('players blocking on the same part share one origin wait (the _HLS_* query is in the edge cache key)', async () => {
    const { event, k } = await liveEvent();
    const same = Array.from({ length: 8 }, () => llPlaylist(event, `&_HLS_msn=${k}&_HLS_part=2`));
    const other = llPlaylist(event, `&_HLS_msn=${k}&_HLS_part=3`);
    await sleep(400);
    expect(await put(event, `A/v1/${k}.2.m4s`, partsOf(video, k)[2])).toBe(201);
    const answers = await Promise.all(same);
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(answers.filter((r) => r.headers.get('x-cache') === 'origin')).toHaveLength(1);
    expect(new Set(await Promise.all(answers.map((r) => r.text()))).size).toBe(1);
    // Part 3 is another key: still waiting until its own part lands.
    expect(await put(event, `A/v1/${k}.3.m4s`, partsOf(video, k)[3])).toBe(201);
    const third = await other;
    expect(third.status).toBe(200);
    expect(third.headers.get('x-cache')).toBe('origin');
    // All four parts of K are there: K is listed as a segment (made of its parts), the hint is K+1's first.
    const m = parse(await third.text());
    const last = m.segments[m.segments.length - 1];
    expect(last.uri).toBe(`${k}.m4s`);
    expect(last.parts.map((p: { uri: string }) => p.uri)).toEqual([0, 1, 2, 3].map((n) => `${k}.${n}.m4s`));
    expect(m.preloadSegment.preloadHints).toEqual([{ type: 'PART', uri: `${k + 1}.0.m4s` }]);
  });

  it('answers 400 for _HLS_part without _HLS_msn, an msn more than two past the last, a part beyond the limit', async () => {
    const { event, k } = await liveEvent();
    const cases = [`&_HLS_part=1`, `&_HLS_msn=${k + 3}`, `&_HLS_msn=${k + 2}&_HLS_part=${N - 1}`, `&_HLS_msn=x`];
    for (const q of cases) {
      const res = await llPlaylist(event, q);
      expect(res.status, q).toBe(400);
      expect(await codeOf(res), q).toBe('BAD_QUERY');
    }
  });

  it('answers 503 when the part asked for does not come within three target durations', async () => {
    const { event, k } = await liveEvent();
    const asked = performance.now();
    // A whole msn two past the last is allowed too (RFC 8216bis): it waits, and times out the same way.
    const [res, wholeMsn] = await Promise.all([
      llPlaylist(event, `&_HLS_msn=${k + 2}&_HLS_part=0`),
      llPlaylist(event, `&_HLS_msn=${k + 2}`),
    ]);
    for (const r of [res, wholeMsn]) {
      expect(r.status).toBe(503);
      expect(await codeOf(r)).toBe('PLAYLIST_BLOCK_TIMEOUT');
    }
    expect(performance.now() - asked).toBeGreaterThanOrEqual(3 * (D / 1000) * 1000 - 100);
  }, 20_000);

  it('a delta update (_HLS_skip=YES) skips what lies before CAN-SKIP-UNTIL with EXT-X-SKIP', async () => {
    const { event, k } = await liveEvent(10);
    const m = parse(await (await llPlaylist(event, '&_HLS_skip=YES')).text());
    // 10 segments of 2 s, skip boundary 12 s: the first four are skipped.
    expect(m.skip).toEqual({ skippedSegments: 4 });
    expect(m.segments[0].uri).toBe(`${k - 6}.m4s`);
    expect(m.preloadSegment.parts.length).toBe(2);
  });
});
