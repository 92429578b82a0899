import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getElementsByName, parseXml, type XmlNode } from '@svta/cml-xml';
// m3u8-parser ships no types (test/m3u8-parser.d.ts declares the module).
import { Parser } from 'm3u8-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultEventConfig } from '../../contract/event-config.ts';
import { parseSpliceSection } from '../../contract/scte35-section.ts';
import { SPLICE_PREROLL_MS, type Splice, SplicePost, spliceFromPost } from '../../contract/splices.ts';
import type { ManifestInput } from '../../contract/track.ts';
import { writeMpd } from './dash.ts';
import { writeMediaPlaylist } from './hls.ts';

const D = 2000;
const K0 = Date.UTC(2025, 10, 25, 8) / D; // 2025-11-25T08:00:00Z
const OUT_AT = (K0 + 3) * D + 500; // mid-segment, as an operator's "now" is
const splice: Splice = spliceFromPost(SplicePost.parse({ durationSeconds: 30, id: 4242 }), 'operator', OUT_AT);

function input(last: number, overrides: Partial<ManifestInput> = {}): ManifestInput {
  return {
    eventId: 'demo',
    config: { ...defaultEventConfig, segmentDurationMs: D, dvrWindowSeconds: 7200 },
    tracks: [
      {
        id: 'v360',
        kind: 'video',
        codecs: 'avc1.4d401e',
        timescale: 30000,
        bandwidth: 800_000,
        width: 640,
        height: 360,
      },
      { id: 'aen', kind: 'audio', codecs: 'mp4a.40.2', timescale: 48000, bandwidth: 128_000, sampleRate: 48000 },
    ],
    nowMs: (last + 1) * D + 1700,
    firstSegment: K0,
    lastSegmentByTrack: { v360: last, aen: last },
    splices: [splice],
    ...overrides,
  };
}

interface DateRange {
  id: string;
  startDate: Date;
  plannedDuration?: number;
  duration?: number;
  scte35Out?: string;
  scte35In?: string;
}
/** videojs' m3u8-parser, with its warnings (it checks that tags sharing an ID agree). */
function parse(text: string): { dateRanges: DateRange[]; segments: { dateTimeString?: string }[]; warnings: string[] } {
  const parser = new Parser();
  const warnings: string[] = [];
  (parser as unknown as { on(e: string, f: (w: { message: string }) => void): void }).on('warn', (w) =>
    warnings.push(w.message),
  );
  parser.push(text);
  parser.end();
  return { ...parser.manifest, warnings };
}
const section = (hex: string) => parseSpliceSection(Uint8Array.from(Buffer.from(hex.replace(/^0x/, ''), 'hex')));

describe('HLS: EXT-X-DATERANGE per RFC 8216bis §4.4.5.1.1', () => {
  it('the break is announced with SCTE35-OUT and PLANNED-DURATION while it runs, in a dated playlist', () => {
    const text = writeMediaPlaylist(input(K0 + 8), 'v360');
    const parsed = parse(text);
    expect(parsed.warnings).toEqual([]);
    expect(parsed.segments[0].dateTimeString).toBe(new Date(K0 * D).toISOString());
    expect(parsed.dateRanges).toHaveLength(1);
    const range = parsed.dateRanges[0];
    expect(range).toMatchObject({ id: 'splice-4242', plannedDuration: 30 });
    expect(range.startDate.getTime()).toBe(OUT_AT);
    expect(range.scte35In).toBeUndefined();
    expect(section(range.scte35Out!)).toMatchObject({
      spliceEventId: 4242,
      outOfNetwork: true,
      breakDuration: 2_700_000,
    });
  });

  it('once the media passes the end of the break, the same ID gets DURATION and SCTE35-IN at outAt + 30 s', () => {
    const parsed = parse(writeMediaPlaylist(input(K0 + 20), 'aen'));
    expect(parsed.warnings).toEqual([]);
    // m3u8-parser merges the two tags that share the ID.
    expect(parsed.dateRanges).toHaveLength(1);
    const range = parsed.dateRanges[0];
    expect(range).toMatchObject({ id: 'splice-4242', plannedDuration: 30, duration: 30 });
    expect(section(range.scte35In!)).toMatchObject({
      spliceEventId: 4242,
      outOfNetwork: false,
      ptsTime: Math.round((OUT_AT + 30_000) * 90) % 2 ** 33,
    });
    const tags = writeMediaPlaylist(input(K0 + 20), 'aen')
      .split('\n')
      .filter((l) => l.startsWith('#EXT-X-DATERANGE'));
    expect(tags).toHaveLength(2);
  });

  it("another event's break under the same id gets its own tags (written once per splice, not per id)", () => {
    const tagsOf = (s: Splice) =>
      writeMediaPlaylist(input(K0 + 20, { splices: [s] }), 'aen')
        .split('\n')
        .filter((l) => l.startsWith('#EXT-X-DATERANGE'));
    const first = tagsOf(splice);
    const other = spliceFromPost(SplicePost.parse({ durationSeconds: 30, id: 4242 }), 'operator', OUT_AT + 4000);
    const second = tagsOf(other);
    expect(second).not.toEqual(first);
    const inOf = (tags: string[]) => section(/SCTE35-IN=(0x[0-9A-F]+)/.exec(tags[1])![1]);
    expect(inOf(second).ptsTime).toBe(Math.round((OUT_AT + 4000 + 30_000) * 90) % 2 ** 33);
    expect(inOf(first).ptsTime).toBe(Math.round((OUT_AT + 30_000) * 90) % 2 ** 33);
    expect(tagsOf(splice)).toEqual(first);
  });

  it('a delta update (EXT-X-SKIP) keeps every date range; a playlist without splices has none', () => {
    const text = writeMediaPlaylist(input(K0 + 200), 'v360', { skip: true });
    expect(text).toContain('#EXT-X-SKIP:SKIPPED-SEGMENTS=');
    expect(text.split('\n').filter((l) => l.startsWith('#EXT-X-DATERANGE'))).toHaveLength(2);
    expect(writeMediaPlaylist(input(K0 + 8, { splices: undefined }), 'v360')).not.toContain('DATERANGE');
  });
});

const repoRoot = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const validator = resolve(repoRoot, process.env.DASH_MPD_VALIDATOR ?? '../shared/validators/validate-mpd');
const scratch = mkdtempSync(join(tmpdir(), 'splice-mpd-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
function validate(name: string, mpd: string): string {
  const file = join(scratch, `${name}.mpd`);
  writeFileSync(file, mpd);
  return execFileSync(validator, [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
const streams = (mpd: string): XmlNode[] => getElementsByName(parseXml(mpd), 'EventStream');

describe('DASH: a Period EventStream urn:scte:scte35:2014:xml+bin', () => {
  it('one Event at the OUT point (media time is UTC) with the duration, the id and the section', () => {
    const mpd = writeMpd(input(K0 + 8));
    const [stream] = streams(mpd);
    expect(stream.attributes).toMatchObject({ schemeIdUri: 'urn:scte:scte35:2014:xml+bin', timescale: '1000' });
    const [event] = getElementsByName(stream, 'Event');
    expect(event.attributes).toEqual({ presentationTime: String(OUT_AT), duration: '30000', id: '4242' });
    const binary = getElementsByName(event, 'scte35:Binary')[0];
    expect(binary.childNodes[0].nodeValue).toBe(splice.scte35);
    // The EventStream comes before the AdaptationSets, as the schema orders a Period.
    expect(mpd.indexOf('<EventStream')).toBeLessThan(mpd.indexOf('<AdaptationSet'));
  });

  it.skipIf(!existsSync(validator))('live and ended MPDs with a break validate against DASH-MPD.xsd', () => {
    expect(validate('live', writeMpd(input(K0 + 8)))).toMatch(/validates/);
    const ended = writeMpd(input(K0 + 20, { ended: true }));
    expect(validate('ended', ended)).toMatch(/validates/);
    // The ended MPD's Period starts at the first segment: the EventStream's offset moves with it.
    expect(streams(ended)[0].attributes.presentationTimeOffset).toBe(String(K0 * D));
  });

  it('no splices, no EventStream', () => {
    expect(streams(writeMpd(input(K0 + 8, { splices: [] })))).toEqual([]);
  });
});

describe('HLS and DASH announce the same breaks at the edges of the window (contract/splices.ts manifestSplices)', () => {
  const at = (outAt: number, id: number) =>
    spliceFromPost(SplicePost.parse({ durationSeconds: 30, id }), 'operator', outAt);
  const last = K0 + 20;
  const edges = [
    at(K0 * D - 30_000, 1), // IN exactly at the window start: over
    at(K0 * D - 10_000, 2), // OUT before the window, IN inside it: running
    at(K0 * D, 3), // OUT exactly at the window start
    at((last + 1) * D + SPLICE_PREROLL_MS - 1, 4), // in the pre-roll
    at((last + 1) * D + SPLICE_PREROLL_MS, 5), // OUT exactly at the window end
  ];
  const hlsIds = (text: string) => [
    ...new Set(text.split('\n').flatMap((l) => /^#EXT-X-DATERANGE:ID="splice-(\d+)"/.exec(l)?.[1] ?? [])),
  ];
  const dashIds = (mpd: string) =>
    streams(mpd).flatMap((s) => getElementsByName(s, 'Event').map((e) => e.attributes.id));

  it.each([
    ['live', {}],
    ['ended', { ended: true }],
  ])('%s: the break running at the start, the one starting there and the one in the pre-roll', (_, overrides) => {
    const manifest = input(last, { splices: edges, ...overrides });
    expect(hlsIds(writeMediaPlaylist(manifest, 'v360'))).toEqual(['2', '3', '4']);
    expect(dashIds(writeMpd(manifest))).toEqual(['2', '3', '4']);
  });

  it.skipIf(!existsSync(validator))('the ended MPD with a break running at its start validates', () => {
    expect(validate('running', writeMpd(input(last, { splices: edges, ended: true })))).toMatch(/validates/);
  });

  it("a back-to-back next event: both stop at its atK·D, where this event's media ends", () => {
    const atK = last + 1;
    const next = { ...input(atK + 5), eventId: 'after', firstSegment: atK, splices: undefined };
    const manifest = input(last, {
      splices: [at(atK * D - 1, 6), at(atK * D, 7)],
      next: { eventId: 'after', atK, input: next },
    });
    const playlist = writeMediaPlaylist(manifest, 'v360');
    expect(playlist).toContain('#EXT-X-DISCONTINUITY');
    expect(hlsIds(playlist)).toEqual(['6']);
    const mpd = writeMpd(manifest);
    expect(mpd).toContain('<Period id="p1-after"');
    expect(dashIds(mpd)).toEqual(['6']);
  });

  it("a back-to-back next event's own breaks: in its Period and after its discontinuity, with IDs of its own", () => {
    const atK = last + 1;
    const nextSplices = [
      at(atK * D - 10_000, 8), // began before the takeover, still running at atK·D
      at(atK * D + 4000, 6), // the same splice id as this event's break: another break
      at((atK + 6) * D + SPLICE_PREROLL_MS, 9), // past the next event's window
      at(atK * D - 40_000, 10), // over before the takeover
    ];
    const next = { ...input(atK + 5), eventId: 'after', firstSegment: atK - 20, splices: nextSplices };
    const manifest = input(last, {
      splices: [at(atK * D - 1, 6)],
      next: { eventId: 'after', atK, input: next },
    });
    const playlist = writeMediaPlaylist(manifest, 'v360');
    const lines = playlist.split('\n');
    const ids = (from: number, to: number) =>
      lines.slice(from, to).flatMap((l) => /^#EXT-X-DATERANGE:ID="([^"]+)"/.exec(l)?.[1] ?? []);
    const cut = lines.indexOf('#EXT-X-DISCONTINUITY');
    expect(cut).toBeGreaterThan(0);
    expect([...new Set(ids(0, cut))]).toEqual(['splice-6']);
    expect([...new Set(ids(cut, lines.length))]).toEqual(['after/splice-8', 'after/splice-6']);
    // The independent parser sees four unique breaks (6 has no IN yet) and no conflicting tags.
    const parsed = parse(playlist);
    expect(parsed.warnings).toEqual([]);
    expect(new Set(parsed.dateRanges.map((r) => r.id))).toEqual(
      new Set(['splice-6', 'after/splice-8', 'after/splice-6']),
    );
    const mpd = writeMpd(manifest);
    const periods = getElementsByName(parseXml(mpd), 'Period');
    const eventIds = (period: XmlNode) => getElementsByName(period, 'Event').map((e) => e.attributes.id);
    expect(periods.map((p) => p.attributes.id)).toEqual(['p0', 'p1-after']);
    expect(eventIds(periods[0])).toEqual(['6']);
    expect(eventIds(periods[1])).toEqual(['8', '6']);
    // The next Period's EventStream is offset to where that Period starts.
    expect(getElementsByName(periods[1], 'EventStream')[0].attributes.presentationTimeOffset).toBe(String(atK * D));
  });

  it.skipIf(!existsSync(validator))("the live MPD with a next event's breaks in its Period validates", () => {
    const atK = last + 1;
    const next = { ...input(atK + 5), eventId: 'after', firstSegment: atK, splices: [at(atK * D + 4000, 6)] };
    expect(validate('next-period', writeMpd(input(last, { next: { eventId: 'after', atK, input: next } })))).toMatch(
      /validates/,
    );
  });
});
