import { describe, expect, it } from 'vitest';
// m3u8-parser ships no types (test/m3u8-parser.d.ts declares the module); the shape read is typed below.
import { Parser } from 'm3u8-parser';
import type { ManifestInput } from '../../contract/track.ts';
import { holdBackSeconds, writeMediaPlaylist, writeMultivariantPlaylist } from './hls.ts';
import { AUDIO_EN, D, K0, manifestInput, V234, V360, V540 } from './manifest-fixture.test-helpers.ts';

interface ParsedSegment {
  uri: string;
  duration: number;
  programDateTime?: number;
  dateTimeString?: string;
  map?: { uri: string };
  custom?: { gap?: boolean };
}
interface ParsedPlaylist {
  version?: number;
  targetDuration?: number;
  mediaSequence?: number;
  endList?: boolean;
  independentSegments?: boolean;
  serverControl?: { canSkipUntil?: number; holdBack?: number };
  segments: ParsedSegment[];
  playlists?: { uri: string; attributes: Record<string, unknown> }[];
  mediaGroups?: {
    AUDIO: Record<string, Record<string, { language?: string; default: boolean; autoselect: boolean; uri: string }>>;
  };
}

/** Parse with videojs' m3u8-parser (the parser VHS uses), teaching it EXT-X-GAP which 7.2 ignores. */
function parse(text: string): ParsedPlaylist {
  const parser = new Parser();
  parser.addParser({ expression: /^#EXT-X-GAP/, customType: 'gap', dataParser: () => true, segment: true });
  parser.push(text);
  parser.end();
  return parser.manifest as ParsedPlaylist;
}

/** v360, v540, v234 and aen, ten segments in, 0.5 s into K0 + 10 (the newest listed K0 + 8), a 60 s DVR window. */
const input = (overrides: Partial<ManifestInput> = {}): ManifestInput =>
  manifestInput(
    {
      nowMs: (K0 + 10) * D + 500,
      last: K0 + 8,
      tracks: [V360, V540, V234, AUDIO_EN],
      config: { dvrWindowSeconds: 60 },
    },
    overrides,
  );

describe('writeMultivariantPlaylist', () => {
  it('marks a declared audio-description track with its HLS characteristic', () => {
    const base = input();
    const aen = base.tracks.find((t) => t.id === 'aen')!;
    const text = writeMultivariantPlaylist({
      ...base,
      tracks: [...base.tracks, { ...aen, id: 'aen-ad', label: 'English AD', roles: ['description'] }],
    });
    const media = text.split('\n').filter((l) => l.startsWith('#EXT-X-MEDIA:'));
    expect(media.filter((l) => l.includes('CHARACTERISTICS="public.accessibility.describes-video"'))).toEqual([
      expect.stringContaining('NAME="English AD"'),
    ]);
  });

  it('writes AVERAGE-BANDWIDTH from the measured means once every track has one', () => {
    const base = input();
    const measured = {
      ...base,
      tracks: base.tracks.map((t) => ({ ...t, averageBandwidth: Math.round(t.bandwidth * 0.8) })),
    };
    const top = parse(writeMultivariantPlaylist(measured)).playlists![0].attributes;
    expect(top.BANDWIDTH).toBe(1_800_000 + 128_000);
    expect(Number(top['AVERAGE-BANDWIDTH'])).toBe(1_440_000 + 102_400);
    const partial = {
      ...base,
      tracks: measured.tracks.map((t) => (t.kind === 'audio' ? { ...t, averageBandwidth: undefined } : t)),
    };
    expect(writeMultivariantPlaylist(partial)).not.toContain('AVERAGE-BANDWIDTH');
  });

  it('lists the audio group and every video rung, heaviest first', () => {
    const text = writeMultivariantPlaylist(input());
    const m = parse(text);
    expect(m.version).toBe(7);
    expect(m.independentSegments).toBe(true);
    expect(m.playlists?.map((p) => p.uri)).toEqual(['v540/index.m3u8', 'v360/index.m3u8', 'v234/index.m3u8']);
    const top = m.playlists![0].attributes;
    expect(top.BANDWIDTH).toBe(1_800_000 + 128_000);
    expect(top.CODECS).toBe('avc1.4d401f,mp4a.40.2');
    expect(top.RESOLUTION).toEqual({ width: 960, height: 540 });
    expect(top['FRAME-RATE']).toBe(29.97);
    expect(top.AUDIO).toBe('aud-aac');
    expect(text).toContain('FRAME-RATE=29.970,');
    // No measurement yet: no AVERAGE-BANDWIDTH rather than a guess.
    expect(text).not.toContain('AVERAGE-BANDWIDTH');
    const en = m.mediaGroups!.AUDIO['aud-aac'].English;
    expect(en).toMatchObject({ language: 'en', default: true, autoselect: true, uri: 'aen/index.m3u8' });
    expect(text).toContain('CHANNELS="2"');
  });

  it('marks only the first of several audio languages as default', () => {
    const base = input();
    const es = { ...base.tracks[3], id: 'aes', language: 'es', label: 'Español' };
    const m = parse(writeMultivariantPlaylist({ ...base, tracks: [...base.tracks, es] }));
    expect(m.mediaGroups!.AUDIO['aud-aac'].English.default).toBe(true);
    expect(m.mediaGroups!.AUDIO['aud-aac']['Español']).toMatchObject({
      language: 'es',
      default: false,
      uri: 'aes/index.m3u8',
    });
  });

  it('appends the query to every URI', () => {
    const m = parse(writeMultivariantPlaylist(input(), { query: 'token=abc.def' }));
    expect(m.playlists?.every((p) => p.uri.endsWith('/index.m3u8?token=abc.def'))).toBe(true);
    expect(m.mediaGroups!.AUDIO['aud-aac'].English.uri).toBe('aen/index.m3u8?token=abc.def');
  });
});

describe('writeMultivariantPlaylist: codec families', () => {
  const base = input();
  const hevc = { ...base.tracks[0], id: 'h360', codecs: 'hvc1.1.6.L93.90', bandwidth: 500_000 };
  const eac3 = { ...base.tracks[3], id: 'aen51', codecs: 'ec-3', channels: 6, bandwidth: 192_000 };
  const m = parse(writeMultivariantPlaylist({ ...base, tracks: [...base.tracks, hevc, eac3] }));

  it('puts each audio codec in its own group, each with its default', () => {
    const groups = m.mediaGroups!.AUDIO;
    expect(Object.keys(groups)).toEqual(['aud-aac', 'aud-ec3']);
    expect(groups['aud-aac'].English).toMatchObject({ default: true, uri: 'aen/index.m3u8' });
    expect(Object.values(groups['aud-ec3'])).toEqual([
      expect.objectContaining({ default: true, uri: 'aen51/index.m3u8' }),
    ]);
  });

  it('writes one variant per (video, audio group), CODECS naming only its own video and audio codec', () => {
    const variants = m.playlists!.map((p) => [p.uri, p.attributes.AUDIO, p.attributes.CODECS, p.attributes.BANDWIDTH]);
    expect(variants).toEqual([
      ['v540/index.m3u8', 'aud-aac', 'avc1.4d401f,mp4a.40.2', 1_928_000],
      ['v360/index.m3u8', 'aud-aac', 'avc1.4d401e,mp4a.40.2', 928_000],
      ['h360/index.m3u8', 'aud-aac', 'hvc1.1.6.L93.90,mp4a.40.2', 628_000],
      ['v234/index.m3u8', 'aud-aac', 'avc1.42c015,mp4a.40.2', 428_000],
      ['v540/index.m3u8', 'aud-ec3', 'avc1.4d401f,ec-3', 1_992_000],
      ['v360/index.m3u8', 'aud-ec3', 'avc1.4d401e,ec-3', 992_000],
      ['h360/index.m3u8', 'aud-ec3', 'hvc1.1.6.L93.90,ec-3', 692_000],
      ['v234/index.m3u8', 'aud-ec3', 'avc1.42c015,ec-3', 492_000],
    ]);
  });

  it('writes audio-only variants when there is no video', () => {
    const audioOnly = parse(writeMultivariantPlaylist({ ...base, tracks: [base.tracks[3], eac3] }));
    expect(audioOnly.playlists!.map((p) => [p.uri, p.attributes.AUDIO, p.attributes.CODECS])).toEqual([
      ['aen/index.m3u8', 'aud-aac', 'mp4a.40.2'],
      ['aen51/index.m3u8', 'aud-ec3', 'ec-3'],
    ]);
  });
});

describe('writeMediaPlaylist', () => {
  it('numbers segments by epoch K and dates them K·D since 1970', () => {
    const m = parse(writeMediaPlaylist(input(), 'v540'));
    expect(m.version).toBe(7);
    expect(m.targetDuration).toBe(2);
    expect(m.mediaSequence).toBe(K0);
    expect(m.endList).toBeUndefined();
    expect(m.segments).toHaveLength(9);
    m.segments.forEach((s, i) => {
      expect(s.uri).toBe(`${K0 + i}.m4s`);
      expect(s.duration).toBe(2);
      expect(s.map?.uri).toBe('init.mp4');
      expect(s.programDateTime).toBe((K0 + i) * D);
    });
    expect(m.segments[0].dateTimeString).toBe('2025-11-25T08:00:00.000Z');
  });

  it('marks gaps with EXT-X-GAP, keeps the timeline continuous and re-dates after each gap', () => {
    const text = writeMediaPlaylist(input({ gapsByTrack: { v540: [K0 + 3, K0 + 4] } }), 'v540');
    const m = parse(text);
    expect(m.segments).toHaveLength(9);
    expect(m.segments.map((s) => s.custom?.gap === true)).toEqual([
      false,
      false,
      false,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
    m.segments.forEach((s, i) => expect(s.programDateTime).toBe((K0 + i) * D));
    expect(m.segments[5].dateTimeString).toBe(new Date((K0 + 5) * D).toISOString());
    expect(text.match(/PROGRAM-DATE-TIME/g)).toHaveLength(3); // first, after the gap starts, after it ends
  });

  it('limits a live playlist to the DVR window', () => {
    // 60 s window at D = 2 s: 30 segments, although the origin still holds 100.
    const m = parse(writeMediaPlaylist(input({ lastSegmentByTrack: { v540: K0 + 99 } }), 'v540'));
    expect(m.segments).toHaveLength(30);
    expect(m.mediaSequence).toBe(K0 + 70);
    expect(m.segments[0].programDateTime).toBe((K0 + 70) * D);
  });

  it('ends with EXT-X-ENDLIST once the event has ended', () => {
    const m = parse(writeMediaPlaylist(input({ ended: true }), 'aen'));
    expect(m.endList).toBe(true);
    expect(m.segments).toHaveLength(9);
  });

  it('appends the query to the map and every segment', () => {
    const m = parse(writeMediaPlaylist(input(), 'aen', { query: 'token=t1' }));
    expect(m.segments[0].map?.uri).toBe('init.mp4?token=t1');
    expect(m.segments.every((s) => /^\d+\.m4s\?token=t1$/.test(s.uri))).toBe(true);
  });

  it('lists no segments for a track that has published nothing yet', () => {
    const m = parse(writeMediaPlaylist(input({ lastSegmentByTrack: {} }), 'v540'));
    expect(m.segments).toHaveLength(0);
    expect(m.mediaSequence).toBe(K0);
  });
});

describe('Playlist Delta Updates (EXT-X-SKIP, RFC 8216bis §6.2.5.1)', () => {
  // 60 s window: 30 segments listed, K0+70 … K0+99.
  const long = (over: Partial<ManifestInput> = {}) => input({ lastSegmentByTrack: { v540: K0 + 99 }, ...over });
  const lines = (text: string) => text.trim().split('\n');

  it('advertises CAN-SKIP-UNTIL (six target durations) on live playlists only', () => {
    expect(lines(writeMediaPlaylist(long(), 'v540'))).toContain(
      '#EXT-X-SERVER-CONTROL:CAN-SKIP-UNTIL=12.0,HOLD-BACK=6.0',
    );
    expect(writeMediaPlaylist(long({ ended: true }), 'v540')).not.toContain('SERVER-CONTROL');
    expect(writeMediaPlaylist(long({ ended: true }), 'v540', { skip: true })).not.toContain('EXT-X-SKIP');
  });

  it('replaces the segments older than the skip boundary with one EXT-X-SKIP; the rest is the full playlist', () => {
    const full = writeMediaPlaylist(long(), 'v540');
    const delta = writeMediaPlaylist(long(), 'v540', { skip: true });
    const d = parse(delta) as ParsedPlaylist & { skip?: { skippedSegments: number } };
    expect(d.version).toBe(9);
    expect(d.skip?.skippedSegments).toBe(24);
    expect(d.mediaSequence).toBe(K0 + 70);
    // Six segments (12 s) remain: none of them ends more than the boundary before the end.
    expect(d.segments.map((s) => s.uri)).toEqual(
      parse(full)
        .segments.slice(24)
        .map((s) => s.uri),
    );
    expect(d.segments[0].dateTimeString).toBe(new Date((K0 + 94) * D).toISOString());
    expect(d.segments[0].map?.uri).toBe('init.mp4');
    expect(delta.indexOf('#EXT-X-MAP')).toBeLessThan(delta.indexOf('#EXT-X-SKIP'));
    expect(delta.length).toBeLessThan(full.length / 2);
  });

  it('keeps gaps after the boundary and answers a short playlist in full', () => {
    const gappy = parse(
      writeMediaPlaylist(long({ gapsByTrack: { v540: [K0 + 97] } }), 'v540', { skip: true }),
    ) as ParsedPlaylist;
    expect(gappy.segments.map((s) => s.custom?.gap === true)).toEqual([false, false, false, true, false, false]);
    const short = writeMediaPlaylist(input({ lastSegmentByTrack: { v540: K0 + 5 } }), 'v540', { skip: true });
    expect(short).not.toContain('EXT-X-SKIP');
    expect(short).toContain('#EXT-X-VERSION:7');
  });

  it('never skips past a discontinuity into the next event', () => {
    const atK = K0 + 95;
    const next: ManifestInput = input({
      eventId: 'next-ev',
      firstSegment: atK,
      lastSegmentByTrack: { v540: atK + 20 },
    });
    const delta = writeMediaPlaylist(
      long({ lastSegmentByTrack: { v540: atK - 1 }, next: { eventId: 'next-ev', atK, input: next } }),
      'v540',
      {
        skip: true,
      },
    );
    const d = parse(delta) as ParsedPlaylist & { skip?: { skippedSegments: number } };
    // 30 listed: this event's last 9 (K0+86 … K0+94), then 21 of the next one; only this event's are skipped.
    expect(d.skip?.skippedSegments).toBe(9);
    expect(delta).toContain('#EXT-X-DISCONTINUITY\n');
    expect(d.segments[0].uri).toBe(`../../next-ev/v540/${atK}.m4s`);
  });
});

describe('HLS DRM signalling', () => {
  const drm = (scheme: 'cenc' | 'cbcs', kid: string) => ({
    scheme,
    defaultKid: kid,
    pssh: { widevine: 'V2lkZQ==', clearkey: 'Q2xlYXI=' },
  });
  const videoKid = '0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9';
  const audioKid = 'ffeeddcc-bbaa-9988-7766-554433221100';
  const protectedInput = (scheme: 'cenc' | 'cbcs') =>
    input({
      tracks: input().tracks.map((t) => ({ ...t, drm: drm(scheme, t.kind === 'video' ? videoKid : audioKid) })),
    });

  it('cbcs: EXT-X-KEY SAMPLE-AES per system in media playlists, before EXT-X-MAP', () => {
    const text = writeMediaPlaylist(protectedInput('cbcs'), 'v360');
    const keys = text.split('\n').filter((l) => l.startsWith('#EXT-X-KEY:'));
    expect(keys).toEqual([
      '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="data:text/plain;base64,V2lkZQ==",KEYID=0x0a1b2c3d4e5f60718293a4b5c6d7e8f9,KEYFORMAT="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed",KEYFORMATVERSIONS="1"',
      '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="data:text/plain;base64,Q2xlYXI=",KEYID=0x0a1b2c3d4e5f60718293a4b5c6d7e8f9,KEYFORMAT="urn:uuid:1077efec-c0b2-4d02-ace3-3c1e52e2fb4b",KEYFORMATVERSIONS="1"',
      // hls.js: ClearKey as org.w3.clearkey, the KID itself as the URI's data.
      '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="data:text/plain;base64,ChssPU5fYHGCk6S1xtfo+Q==",KEYID=0x0a1b2c3d4e5f60718293a4b5c6d7e8f9,KEYFORMAT="org.w3.clearkey",KEYFORMATVERSIONS="1"',
    ]);
    expect(text.indexOf('#EXT-X-KEY')).toBeLessThan(text.indexOf('#EXT-X-MAP'));
    expect(parse(text).segments.length).toBeGreaterThan(0);
  });

  it('writes one EXT-X-SESSION-KEY per distinct key in the multivariant playlist; clear playlists have none', () => {
    const text = writeMultivariantPlaylist(protectedInput('cbcs'));
    const session = text.split('\n').filter((l) => l.startsWith('#EXT-X-SESSION-KEY:'));
    expect(session).toHaveLength(6);
    expect(session.filter((l) => l.includes('KEYID=0xffeeddcc'))).toHaveLength(3);
    expect(parse(text).playlists).toHaveLength(3);
    expect(writeMultivariantPlaylist(input())).not.toContain('KEY');
    expect(writeMediaPlaylist(input(), 'v360')).not.toContain('KEY');
    expect(writeMediaPlaylist(protectedInput('cenc'), 'aen')).toContain('#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,');
  });
});

describe('back-to-back events (HLS)', () => {
  const atK = K0 + 9;
  const nextInput = (over: Partial<ManifestInput> = {}) =>
    input({
      eventId: 'next-ev',
      tracks: [
        {
          id: 'h540',
          kind: 'video',
          codecs: 'avc1.640020',
          timescale: 60000,
          bandwidth: 2_000_000,
          width: 960,
          height: 540,
          frameRate: '60000/1001',
        },
      ],
      firstSegment: atK,
      lastSegmentByTrack: { h540: atK + 2 },
      ...over,
    });

  it('continues with the next event after a discontinuity, with its own init', () => {
    const text = writeMediaPlaylist(input({ next: { eventId: 'next-ev', atK, input: nextInput() } }), 'v540');
    const p = parse(text);
    expect(p.segments.map((s) => s.uri)).toEqual([
      ...Array.from({ length: 9 }, (_, i) => `${K0 + i}.m4s`),
      ...[0, 1, 2].map((i) => `../../next-ev/h540/${atK + i}.m4s`),
    ]);
    expect(p.segments[9].map?.uri).toBe('../../next-ev/h540/init.mp4');
    expect((p.segments[9] as { discontinuity?: boolean }).discontinuity).toBe(true);
    expect(p.segments[9].dateTimeString).toBe(new Date(atK * D).toISOString());
  });

  it('waits until this event reached atK − 1, and counts discontinuities that slid out', () => {
    const early = input({
      lastSegmentByTrack: { v540: K0 + 5 },
      next: { eventId: 'next-ev', atK, input: nextInput() },
    });
    expect(writeMediaPlaylist(early, 'v540')).not.toContain('next-ev');
    // 60 s window = 30 segments: 35 of the next event push this event's segments out.
    const later = writeMediaPlaylist(
      input({ next: { eventId: 'next-ev', atK, input: nextInput({ lastSegmentByTrack: { h540: atK + 34 } }) } }),
      'v540',
    );
    expect(later).toContain('#EXT-X-DISCONTINUITY-SEQUENCE:1');
    expect(later).not.toContain('#EXT-X-DISCONTINUITY\n');
    expect(parse(later).segments).toHaveLength(30);
    expect(parse(later).segments[0].uri).toBe(`../../next-ev/h540/${atK + 5}.m4s`);
  });
});

describe('captions (WebVTT)', () => {
  const withCaptions = () => {
    const base = input();
    return input({
      tracks: [
        ...base.tracks,
        {
          id: 'text-en',
          kind: 'text',
          codecs: 'stpp.ttml.im1t',
          timescale: 1000,
          bandwidth: 4000,
          language: 'en',
          label: 'English',
          default: true,
        },
        {
          id: 'text-es',
          kind: 'text',
          codecs: 'stpp.ttml.im1t',
          timescale: 1000,
          bandwidth: 4000,
          language: 'es',
          label: 'Español',
        },
      ],
      lastSegmentByTrack: { ...base.lastSegmentByTrack, 'text-en': K0 + 8, 'text-es': K0 + 8 },
    });
  };

  it('puts every caption language in one SUBTITLES group that each variant names, without text codecs in CODECS', () => {
    const parser = new Parser();
    parser.push(writeMultivariantPlaylist(withCaptions()));
    parser.end();
    const subs = parser.manifest.mediaGroups.SUBTITLES.subs;
    expect(subs.English).toMatchObject({ language: 'en', default: true, autoselect: true, uri: 'text-en/index.m3u8' });
    expect(subs['Español']).toMatchObject({
      language: 'es',
      default: false,
      autoselect: true,
      uri: 'text-es/index.m3u8',
    });
    for (const v of parser.manifest.playlists) {
      expect(v.attributes.SUBTITLES).toBe('subs');
      expect(v.attributes.CODECS).not.toContain('stpp');
    }
  });

  it('lists {K}.vtt in a text media playlist, with no EXT-X-MAP, on the same K and dates as the media', () => {
    const text = writeMediaPlaylist(withCaptions(), 'text-en');
    const parser = new Parser();
    parser.push(text);
    parser.end();
    expect(text).not.toContain('EXT-X-MAP');
    expect(parser.manifest.mediaSequence).toBe(K0);
    expect(parser.manifest.segments.map((s: { uri: string }) => s.uri)).toEqual(
      Array.from({ length: 9 }, (_, i) => `${K0 + i}.vtt`),
    );
    expect(parser.manifest.segments[0].dateTimeString).toBe(new Date(K0 * D).toISOString());
  });
});

describe('HOLD-BACK (EXT-X-SERVER-CONTROL, RFC 8216bis §4.4.3.8)', () => {
  const live = (config: Partial<ManifestInput['config']> = {}) =>
    input({ config: { ...input().config, ...config }, lastSegmentByTrack: { v540: K0 + 99 } });

  it('is three target durations at the defaults, which the spec makes the least allowed; the delta-update boundary stays', () => {
    // The target (D + pipelineDelayMs = 3.5 s) minus the pipeline delay would be 2 s: below 3 × 2 s.
    const m = parse(writeMediaPlaylist(live(), 'v540'));
    expect(m.serverControl).toMatchObject({ holdBack: 6, canSkipUntil: 12 });
  });

  it("follows a latency target above three target durations (the target counts from real time, HOLD-BACK from the playlist's end)", () => {
    expect(holdBackSeconds(live({ latency: { targetMs: 12_000 } }))).toBe(10.5);
    expect(parse(writeMediaPlaylist(live({ latency: { targetMs: 12_000 } }), 'v540')).serverControl?.holdBack).toBe(
      10.5,
    );
    // 6 s segments: TARGETDURATION 6, so at least 18 s.
    expect(holdBackSeconds(live({ segmentDurationMs: 6000 }))).toBe(18);
    // 1.5 s segments round up to a target duration of 2: still 6 s.
    expect(holdBackSeconds(live({ segmentDurationMs: 1500 }))).toBe(6);
  });

  it('is left out with the rest of EXT-X-SERVER-CONTROL once the event has ended', () => {
    expect(writeMediaPlaylist(live({}), 'v540')).toContain('HOLD-BACK=6.0');
    expect(writeMediaPlaylist(input({ ended: true }), 'v540')).not.toContain('HOLD-BACK');
  });
});
