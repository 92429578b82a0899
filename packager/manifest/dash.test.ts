import { describe, expect, it } from 'vitest';
// The XML parser dash.js 5 itself reads MPDs with.
import { getElementsByName, parseXml, type XmlNode } from '@svta/cml-xml';
import type { ManifestInput, TrackDescriptor } from '../../contract/track.ts';
import { writeMpd } from './dash.ts';
import {
  D,
  haveMpdValidator,
  K0,
  LADDER,
  manifestInput,
  mpdValidator,
  validateMpd,
} from './manifest-fixture.test-helpers.ts';

if (!haveMpdValidator) {
  console.warn(
    `\n!!! ${'='.repeat(70)}\n!!! DASH MPD schema validation SKIPPED: no validator at ${mpdValidator}\n` +
      `!!! Set DASH_MPD_VALIDATOR to the validate-mpd script (needs xmllint) to run it.\n!!! ${'='.repeat(70)}\n`,
  );
}
const skipNote = haveMpdValidator ? '' : ` [SKIPPED: validator not found at ${mpdValidator}]`;

/** The ladder 300 segments in, 0.7 s into K0 + 300 (the newest listed K0 + 298), with a 2 h DVR window. */
const input = (overrides: Partial<ManifestInput> = {}): ManifestInput =>
  manifestInput(
    { nowMs: (K0 + 300) * D + 700, last: K0 + 298, config: { dvrWindowSeconds: 7200, presentationDelaySegments: 3 } },
    overrides,
  );

function mpdOf(text: string): XmlNode {
  const mpd = parseXml(text).childNodes.find((n) => n.nodeName === 'MPD');
  if (!mpd) throw new Error('no MPD element');
  return mpd;
}
const all = (node: XmlNode, name: string) => getElementsByName(node, name);
const child = (node: XmlNode, name: string) => node.childNodes.filter((n) => n.nodeName === name);
/** xs:duration as written by the writer (PTnS) to seconds. */
const seconds = (d: string) => Number(/^PT([\d.]+)S$/.exec(d)?.[1]);

/**
 * What a DASH client computes for $Number$ = n (ISO/IEC 23009-1 §5.3.9.5.3):
 * media presentation time = Period@start + (n − startNumber)·duration/timescale, and the media
 * time inside the segment it expects = that − Period@start + presentationTimeOffset/timescale.
 */
function segmentTimes(mpd: XmlNode, n: number) {
  const period = child(mpd, 'Period')[0];
  const tpl = all(mpd, 'SegmentTemplate')[0].attributes;
  const ts = Number(tpl.timescale);
  const presentation = seconds(period.attributes.start) + ((n - Number(tpl.startNumber)) * Number(tpl.duration)) / ts;
  const media = presentation - seconds(period.attributes.start) + Number(tpl.presentationTimeOffset) / ts;
  return { presentation, media };
}

describe('writeMpd: schema', () => {
  it.skipIf(!haveMpdValidator)(`live MPD validates against DASH-MPD.xsd${skipNote}`, () => {
    expect(
      validateMpd(
        'live',
        writeMpd(input(), { utcTimingUrl: 'https://edge.example/time', baseUrl: 'https://edge.example/live/demo/' }),
      ),
    ).toMatch(/validates/);
  });

  it.skipIf(!haveMpdValidator)(`ended (static) MPD validates against DASH-MPD.xsd${skipNote}`, () => {
    expect(validateMpd('ended', writeMpd(input({ ended: true })))).toMatch(/validates/);
  });

  it.skipIf(!haveMpdValidator)(`multi-language, mixed-timescale, hostile-label MPD validates${skipNote}`, () => {
    const tracks: TrackDescriptor[] = [
      ...LADDER.slice(0, 2),
      { ...LADDER[2], timescale: 90000 },
      LADDER[3],
      { ...LADDER[3], id: 'aes', language: 'es', label: 'Español <"&\'>' },
      { ...LADDER[3], id: 'aes-lo', language: 'es', bandwidth: 64_000, label: 'Español' },
    ];
    expect(
      validateMpd('multi', writeMpd(input({ tracks }), { utcTimingUrl: '/time', query: 'token=a.b&x=$1' })),
    ).toMatch(/validates/);
  });
});

describe('writeMpd: live', () => {
  const text = writeMpd(input(), { utcTimingUrl: 'https://edge.example/time' });
  const mpd = mpdOf(text);

  it('anchors the timeline at the Unix epoch', () => {
    const a = mpd.attributes;
    expect(a.type).toBe('dynamic');
    expect(a.profiles.split(',')).toContain('urn:mpeg:dash:profile:isoff-live:2011');
    expect(a.availabilityStartTime).toBe('1970-01-01T00:00:00Z');
    expect(a.publishTime).toBe(new Date((K0 + 300) * D).toISOString().replace('.000Z', 'Z'));
    expect(a.minimumUpdatePeriod).toBe('PT2S');
    // The latency target (contract/latency.ts): D + pipelineDelayMs.
    expect(a.suggestedPresentationDelay).toBe('PT3.5S');
    expect(a.minBufferTime).toBe('PT2S');
    // A segment can run one frame past D (29.97 fps: first frame at or after K·D starts segment K).
    expect(seconds(a.maxSegmentDuration)).toBeCloseTo(2.034, 3);
    const period = child(mpd, 'Period');
    expect(period).toHaveLength(1);
    expect(period[0].attributes).toMatchObject({ id: 'p0', start: 'PT0S' });
    expect(child(mpd, 'UTCTiming')[0].attributes).toEqual({
      schemeIdUri: 'urn:mpeg:dash:utc:http-iso:2014',
      value: 'https://edge.example/time',
    });
  });

  it('tells players where to sit: ServiceDescription Latency and PlaybackRate, derived from D and the pipeline delay', () => {
    // Schema order: after BaseURL, before the Period.
    expect(mpd.childNodes.filter((n) => n.nodeName !== '#text').map((n) => n.nodeName)).toEqual([
      'ServiceDescription',
      'Period',
      'UTCTiming',
    ]);
    const sd = child(mpd, 'ServiceDescription')[0];
    expect(sd.attributes).toEqual({ id: '0' });
    // target D + 1500, min D + 750, max target + 2·D
    expect(child(sd, 'Latency')[0].attributes).toEqual({ target: '3500', min: '2750', max: '7500' });
    expect(child(sd, 'PlaybackRate')[0].attributes).toEqual({ min: '0.96', max: '1.04' });
  });

  it("signals the event's own latency block, suggestedPresentationDelay the same as the target", () => {
    const latency = { targetMs: 5000, maxMs: 9000, playbackRate: { min: 0.9, max: 1.1 } };
    const m = mpdOf(writeMpd(input({ config: { ...input().config, latency } })));
    expect(m.attributes.suggestedPresentationDelay).toBe('PT5S');
    const sd = child(m, 'ServiceDescription')[0];
    // min is still derived (D + pipelineDelayMs/2), kept at or below the target
    expect(child(sd, 'Latency')[0].attributes).toEqual({ target: '5000', min: '2750', max: '9000' });
    expect(child(sd, 'PlaybackRate')[0].attributes).toEqual({ min: '0.9', max: '1.1' });
    // D = 4 s with a 3 s pipeline delay: target 7 s.
    const slow = mpdOf(
      writeMpd(input({ config: { ...input().config, segmentDurationMs: 4000, pipelineDelayMs: 3000 } })),
    );
    expect(child(child(slow, 'ServiceDescription')[0], 'Latency')[0].attributes).toEqual({
      target: '7000',
      min: '5500',
      max: '15000',
    });
  });

  it('leaves the ServiceDescription out of an ended (static) MPD', () => {
    const m = mpdOf(writeMpd(input({ ended: true })));
    expect(child(m, 'ServiceDescription')).toEqual([]);
    expect(m.attributes.suggestedPresentationDelay).toBeUndefined();
  });

  it('makes $Number$ the epoch segment number K and media time UTC seconds', () => {
    for (const tpl of all(mpd, 'SegmentTemplate')) {
      const a = tpl.attributes;
      expect(a).toMatchObject({
        startNumber: '0',
        presentationTimeOffset: '0',
        media: '$RepresentationID$/$Number$.m4s',
        initialization: '$RepresentationID$/init.mp4',
      });
      expect(Number(a.duration)).toBe((D * Number(a.timescale)) / 1000);
    }
    const k = K0 + 123;
    expect(segmentTimes(mpd, k)).toEqual({ presentation: (k * D) / 1000, media: (k * D) / 1000 });
  });

  it('puts the ladder in one video AdaptationSet and the audio in its own, main role', () => {
    const sets = all(mpd, 'AdaptationSet');
    expect(sets.map((s) => s.attributes.contentType)).toEqual(['video', 'audio']);
    const [video, audio] = sets;
    expect(video.attributes).toMatchObject({
      mimeType: 'video/mp4',
      segmentAlignment: 'true',
      startWithSAP: '1',
      maxWidth: '960',
      maxHeight: '540',
    });
    const reps = child(video, 'Representation').map((r) => r.attributes);
    expect(reps.map((r) => r.id)).toEqual(['v234', 'v360', 'v540']);
    expect(reps[2]).toMatchObject({
      bandwidth: '1800000',
      width: '960',
      height: '540',
      frameRate: '30000/1001',
      codecs: 'avc1.4d401f',
    });
    expect(audio.attributes).toMatchObject({ lang: 'en', mimeType: 'audio/mp4' });
    expect(child(audio, 'Role')[0].attributes).toEqual({ schemeIdUri: 'urn:mpeg:dash:role:2011', value: 'main' });
    expect(child(audio, 'Representation')[0].attributes).toMatchObject({
      id: 'aen',
      codecs: 'mp4a.40.2',
      audioSamplingRate: '48000',
    });
  });

  it('advertises the configured DVR window once the event is older than it', () => {
    expect(mpd.attributes.timeShiftBufferDepth).toBe('PT600.7S'); // event is 600.7 s old, window 7200 s
    const old = mpdOf(writeMpd(input({ nowMs: (K0 + 10_000) * D, firstSegment: K0 + 6400 })));
    expect(old.attributes.timeShiftBufferDepth).toBe('PT7200S');
  });
});

describe('writeMpd: ended', () => {
  const last = K0 + 298;
  const mpd = mpdOf(
    writeMpd(input({ ended: true, lastSegmentByTrack: { v540: last, v360: last, v234: last, aen: last - 1 } })),
  );

  it('turns static and covers the DVR window up to the last segment every track has', () => {
    const a = mpd.attributes;
    expect(a.type).toBe('static');
    expect(a.availabilityStartTime).toBeUndefined();
    expect(a.minimumUpdatePeriod).toBeUndefined();
    expect(seconds(child(mpd, 'Period')[0].attributes.start)).toBe((K0 * D) / 1000);
    expect(seconds(a.mediaPresentationDuration)).toBe((last * D) / 1000); // audio ends at last−1: (last−1+1)·D
    expect(child(mpd, 'UTCTiming')).toHaveLength(0);
  });

  it('keeps the live timeline: segment K still starts at K·D, now numbered from the first kept segment', () => {
    for (const tpl of all(mpd, 'SegmentTemplate')) {
      expect(tpl.attributes.startNumber).toBe(String(K0));
      expect(Number(tpl.attributes.presentationTimeOffset)).toBe((K0 * D * Number(tpl.attributes.timescale)) / 1000);
    }
    expect(segmentTimes(mpd, K0)).toEqual({ presentation: (K0 * D) / 1000, media: (K0 * D) / 1000 });
    expect(segmentTimes(mpd, K0 + 50)).toEqual({ presentation: ((K0 + 50) * D) / 1000, media: ((K0 + 50) * D) / 1000 });
  });
});

describe('writeMpd: languages, escaping and tokens', () => {
  const tracks: TrackDescriptor[] = [
    ...LADDER,
    { ...LADDER[3], id: 'aes', language: 'es', label: 'Español <"&\'>' },
    { ...LADDER[3], id: 'ade', language: 'de', label: 'Deutsch', timescale: 44100, sampleRate: 44100 },
  ];
  const mpd = mpdOf(writeMpd(input({ tracks }), { query: 'token=a.b&x=$1' }));

  it('writes one audio AdaptationSet per language with main role on the first only', () => {
    const audio = all(mpd, 'AdaptationSet').filter((s) => s.attributes.contentType === 'audio');
    expect(audio.map((s) => s.attributes.lang)).toEqual(['en', 'es', 'de']);
    expect(audio.map((s) => child(s, 'Role').length)).toEqual([1, 0, 0]);
    expect(child(audio[1], 'Label')[0].childNodes[0].nodeValue).toBe('Español <"&\'>');
    // 2 s at 44.1 kHz is a whole number of ticks too.
    expect(child(audio[2], 'SegmentTemplate')[0].attributes).toMatchObject({ timescale: '44100', duration: '88200' });
  });

  it('gives a declared audio-description track of the same language its own AdaptationSet with its Role', () => {
    const withAd = mpdOf(
      writeMpd(
        input({ tracks: [...LADDER, { ...LADDER[3], id: 'aen-ad', label: 'English AD', roles: ['description'] }] }),
      ),
    );
    const audio = all(withAd, 'AdaptationSet').filter((s) => s.attributes.contentType === 'audio');
    expect(audio.map((s) => s.attributes.lang)).toEqual(['en', 'en']);
    expect(audio.map((s) => child(s, 'Role').map((r) => r.attributes.value))).toEqual([['main'], ['description']]);
    expect(child(audio[1], 'Representation').map((r) => r.attributes.id)).toEqual(['aen-ad']);
  });

  it('appends the token to every template, escaping the template $', () => {
    for (const tpl of all(mpd, 'SegmentTemplate')) {
      expect(tpl.attributes.media).toBe('$RepresentationID$/$Number$.m4s?token=a.b&x=$$1');
      expect(tpl.attributes.initialization).toBe('$RepresentationID$/init.mp4?token=a.b&x=$$1');
    }
  });

  it('puts a SegmentTemplate on each Representation when their timescales differ', () => {
    const mixed = mpdOf(writeMpd(input({ tracks: [LADDER[0], { ...LADDER[1], timescale: 90000 }] })));
    const video = all(mixed, 'AdaptationSet')[0];
    expect(child(video, 'SegmentTemplate')).toHaveLength(0);
    expect(child(video, 'Representation').map((r) => child(r, 'SegmentTemplate')[0].attributes.timescale)).toEqual([
      '90000',
      '30000',
    ]);
  });
});

describe('writeMpd: codec families', () => {
  const hevc: TrackDescriptor = { ...LADDER[1], id: 'h360', codecs: 'hvc1.1.6.L93.90', bandwidth: 500_000 };
  const av1: TrackDescriptor = { ...LADDER[1], id: 'a360', codecs: 'av01.0.04M.08', bandwidth: 400_000 };
  const eac3: TrackDescriptor = { ...LADDER[3], id: 'aen51', codecs: 'ec-3', channels: 6, label: 'English 5.1' };
  const mpd = mpdOf(writeMpd(input({ tracks: [...LADDER, hevc, av1, eac3] })));
  const sets = all(mpd, 'AdaptationSet');

  it('puts AVC, HEVC and AV1 in separate video AdaptationSets, each with its own maxima', () => {
    const video = sets.filter((s) => s.attributes.contentType === 'video');
    expect(video.map((s) => child(s, 'Representation').map((r) => r.attributes.codecs.split('.')[0]))).toEqual([
      ['avc1', 'avc1', 'avc1'],
      ['hvc1'],
      ['av01'],
    ]);
    expect(video.map((s) => s.attributes.maxHeight)).toEqual(['540', '360', '360']);
  });

  it('puts AAC and E-AC-3 of one language in two audio AdaptationSets, both main', () => {
    const audio = sets.filter((s) => s.attributes.contentType === 'audio');
    expect(audio.map((s) => child(s, 'Representation').map((r) => r.attributes.codecs))).toEqual([
      ['mp4a.40.2'],
      ['ec-3'],
    ]);
    expect(audio.map((s) => child(s, 'Role').map((r) => r.attributes.value))).toEqual([['main'], ['main']]);
  });

  it('counts an E-AC-3 frame as 1536 samples in maxSegmentDuration', () => {
    const audioOnly = mpdOf(writeMpd(input({ tracks: [{ ...eac3, sampleRate: 32000 }] })));
    // 1536 / 32 kHz = 48 ms (an AAC frame would be 32 ms).
    expect(audioOnly.attributes.maxSegmentDuration).toBe('PT2.048S');
  });

  it.skipIf(!haveMpdValidator)(`still validates against the MPD schema${skipNote}`, () => {
    validateMpd('codec-families', writeMpd(input({ tracks: [...LADDER, hevc, av1, eac3] })));
  });
});

describe('writeMpd with DRM', () => {
  const drm = (kid: string) => ({
    scheme: 'cenc' as const,
    defaultKid: kid,
    pssh: { widevine: 'AAAAAXBzc2g=', playready: 'AAAAAnBzc2g=', clearkey: 'AAAAA3Bzc2g=' },
    laUrl: 'https://edge.example/drm/clearkey/demo?x=1&y=2',
  });
  const videoKid = '0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9';
  const audioKid = 'ffeeddcc-bbaa-9988-7766-554433221100';
  const tracks = LADDER.map((t) => ({ ...t, drm: drm(t.kind === 'video' ? videoKid : audioKid) }));
  const text = writeMpd(input({ tracks }), { utcTimingUrl: '/time' });
  const mpd = mpdOf(text);

  it(`still validates against the MPD schema${skipNote}`, (ctx) => {
    if (!haveMpdValidator) return ctx.skip();
    expect(validateMpd('drm', text)).toMatch(/validates/);
  });

  it('signals scheme, default_KID, each system pssh and the ClearKey license URL per AdaptationSet', () => {
    expect(mpd.attributes['xmlns:cenc']).toBe('urn:mpeg:cenc:2013');
    expect(mpd.attributes['xmlns:clearkey']).toBe('http://dashif.org/guidelines/clearKey');
    const sets = all(mpd, 'AdaptationSet');
    sets.forEach((set, i) => {
      const cps = child(set, 'ContentProtection');
      expect(cps.map((c) => c.attributes.schemeIdUri)).toEqual([
        'urn:mpeg:dash:mp4protection:2011',
        'urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed',
        'urn:uuid:9a04f079-9840-4286-ab92-e65be0885f95',
        'urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e',
      ]);
      expect(cps[0].attributes.value).toBe('cenc');
      expect(cps[0].attributes['cenc:default_KID']).toBe(i === 0 ? videoKid : audioKid);
      expect(child(cps[1], 'cenc:pssh')[0].childNodes[0].nodeValue).toBe('AAAAAXBzc2g=');
      const laurl = child(cps[3], 'clearkey:Laurl')[0];
      expect(laurl.attributes.Lic_type).toBe('EME-1.0');
      expect(laurl.childNodes[0].nodeValue).toBe('https://edge.example/drm/clearkey/demo?x=1&y=2');
    });
    // Clear MPDs do not change.
    expect(writeMpd(input())).not.toContain('ContentProtection');
  });
});

describe('writeMpd: back-to-back events', () => {
  const atK = K0 + 310;
  const nextInput = input({
    eventId: 'next-ev',
    tracks: LADDER.map((t) => ({ ...t, id: `n${t.id}` })),
    firstSegment: atK - 1,
    lastSegmentByTrack: { nv540: atK + 1 },
  });
  const text = writeMpd(input({ next: { eventId: 'next-ev', atK, input: nextInput } }), {
    utcTimingUrl: 'https://edge.example/time',
  });
  const mpd = mpdOf(text);

  it('adds a Period at atK·D that addresses the next event with the same epoch numbering', () => {
    const periods = child(mpd, 'Period');
    expect(periods.map((p) => p.attributes.id)).toEqual(['p0', 'p1-next-ev']);
    expect(seconds(periods[1].attributes.start)).toBe((atK * D) / 1000);
    expect(child(periods[1], 'BaseURL')[0].childNodes[0].nodeValue).toBe('../next-ev/');
    const tpl = all(periods[1], 'SegmentTemplate')[0].attributes;
    expect(Number(tpl.startNumber)).toBe(atK);
    expect(Number(tpl.presentationTimeOffset)).toBe((atK * D * Number(tpl.timescale)) / 1000);
    expect(all(periods[1], 'Representation').map((r) => r.attributes.id)).toContain('nv540');
  });

  it('leaves the Period out while the next event has published nothing', () => {
    const none = writeMpd(
      input({ next: { eventId: 'next-ev', atK, input: { ...nextInput, lastSegmentByTrack: {} } } }),
    );
    expect(child(mpdOf(none), 'Period')).toHaveLength(1);
  });

  it.skipIf(!haveMpdValidator)(`two-Period MPD validates against DASH-MPD.xsd${skipNote}`, () => {
    expect(validateMpd('b2b', text)).toMatch(/validates/);
  });
});

describe('writeMpd: captions (stpp)', () => {
  const captions: TrackDescriptor[] = [
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
  ];
  const text = writeMpd(
    input({
      tracks: [...LADDER, ...captions],
      lastSegmentByTrack: {
        v540: K0 + 298,
        v360: K0 + 298,
        v234: K0 + 298,
        aen: K0 + 298,
        'text-en': K0 + 298,
        'text-es': K0 + 298,
      },
    }),
    { utcTimingUrl: '/time' },
  );
  const sets = getElementsByName(parseXml(text), 'AdaptationSet');

  it(`still validates against the MPD schema${skipNote}`, (ctx) => {
    if (!haveMpdValidator) return ctx.skip();
    expect(validateMpd('captions', text)).toMatch(/validates/);
    expect(validateMpd('captions-ended', writeMpd(input({ tracks: [...LADDER, ...captions], ended: true })))).toMatch(
      /validates/,
    );
  });

  it('writes one text AdaptationSet per language: application/mp4, stpp.ttml.im1t, lang, Label, subtitle Role, the epoch template at 1 kHz', () => {
    const textSets = sets.filter((s: XmlNode) => s.attributes?.contentType === 'text');
    expect(textSets.map((s: XmlNode) => s.attributes?.lang)).toEqual(['en', 'es']);
    const en = textSets[0];
    expect(en.attributes).toMatchObject({ mimeType: 'application/mp4' });
    expect(getElementsByName(en, 'Label')[0].childNodes?.[0]?.nodeValue).toBe('English');
    expect(getElementsByName(en, 'Role')[0].attributes).toMatchObject({
      schemeIdUri: 'urn:mpeg:dash:role:2011',
      value: 'subtitle',
    });
    expect(getElementsByName(en, 'SegmentTemplate')[0].attributes).toMatchObject({
      timescale: '1000',
      duration: '2000',
      startNumber: '0',
      media: '$RepresentationID$/$Number$.m4s',
    });
    expect(getElementsByName(en, 'Representation')[0].attributes).toMatchObject({
      id: 'text-en',
      codecs: 'stpp.ttml.im1t',
      bandwidth: '4000',
    });
  });
});
