/**
 * The LL-DASH MPD (writeMpd with lowLatency, docs/latency.md): chunked templates, the producer
 * reference, the low-latency ServiceDescription; schema-valid (MPEG's DASH-MPD.xsd through
 * xmllint, as dash.test.ts), and the standard MPD unchanged beside it.
 */
import { getElementsByName, parseXml, type XmlNode } from '@svta/cml-xml';
import { describe, expect, it } from 'vitest';
import type { ManifestInput, TrackDescriptor } from '../../contract/track.ts';
import { writeMpd } from './dash.ts';
import { AUDIO_EN, D, haveMpdValidator, K0, manifestInput, validateMpd } from './manifest-fixture.test-helpers.ts';

const tracks: TrackDescriptor[] = [
  { id: 'v1', kind: 'video', codecs: 'avc1.4d401f', timescale: 90000, bandwidth: 1_800_000, width: 960, height: 540 },
  { id: 'v2', kind: 'video', codecs: 'avc1.4d401e', timescale: 90000, bandwidth: 800_000, width: 640, height: 360 },
  AUDIO_EN,
  { id: 'ade', kind: 'audio', codecs: 'mp4a.40.2', timescale: 44100, bandwidth: 96_000, sampleRate: 44100 },
  { id: 'ade2', kind: 'audio', codecs: 'mp4a.40.2', timescale: 48000, bandwidth: 64_000, sampleRate: 48000 },
];

const input = (partDurationMs: 500 | 333 = 500, ended = false): ManifestInput =>
  manifestInput(
    { nowMs: (K0 + 300) * D + 700, last: K0 + 298, tracks, config: { latency: { partDurationMs } } },
    { ended },
  );

const mpdOf = (text: string): XmlNode => parseXml(text).childNodes.find((n) => n.nodeName === 'MPD')!;
const all = (node: XmlNode, name: string) => getElementsByName(node, name);

const opts = { utcTimingUrl: 'https://edge.example/time', lowLatency: true };

describe('LL-DASH MPD', () => {
  it('announces segments at their first part at the chunked URL, with producer reference and LL service description', () => {
    const mpd = mpdOf(writeMpd(input(), { ...opts, query: 'token=a$b' }));
    const templates = all(mpd, 'SegmentTemplate');
    // v1/v2 share a template; aen, and the 44.1/48 kHz set (one template per Representation).
    expect(templates).toHaveLength(4);
    for (const t of templates) {
      expect(t.attributes.availabilityTimeOffset).toBe('1.5');
      expect(t.attributes.availabilityTimeComplete).toBe('false');
      expect(t.attributes.media).toBe('$RepresentationID$/$Number$.m4s?token=a$$b&latency=low');
      expect(t.attributes.initialization).toBe('$RepresentationID$/init.mp4?token=a$$b');
    }
    const latency = all(mpd, 'Latency')[0].attributes;
    expect(latency).toMatchObject({ referenceId: '0', target: '2000', min: '1000', max: '4000' });
    expect(all(mpd, 'PlaybackRate')[0].attributes).toMatchObject({ min: '0.96', max: '1.5' });
    expect(mpd.attributes.suggestedPresentationDelay).toBe('PT2S');
    expect(all(mpd, 'UTCTiming')[0].attributes.value).toBe('https://edge.example/time');
    // One per set, or per Representation where each has its own template: media time K·D ↔ UTC K·D.
    const prts = all(mpd, 'ProducerReferenceTime');
    expect(prts).toHaveLength(4);
    for (const p of prts) {
      expect(p.attributes.type).toBe('encoder');
      expect(p.attributes.wallClockTime).toBe(new Date(K0 * D).toISOString());
    }
    // In each template's timescale; the undetermined-language set (lowest bandwidth first) has two.
    expect(prts.map((p) => [p.attributes.id, p.attributes.presentationTime])).toEqual([
      ['0', String(K0 * 2 * 90000)],
      ['1', String(K0 * 2 * 48000)],
      ['2', String(K0 * 2 * 48000)],
      ['2', String(K0 * 2 * 44100)],
    ]);
  });

  it('at 333 ms parts: six parts, offset D − D/6, target 3·P + 0.5 s', () => {
    const mpd = mpdOf(writeMpd(input(333), opts));
    expect(all(mpd, 'SegmentTemplate')[0].attributes.availabilityTimeOffset).toBe('1.667');
    expect(all(mpd, 'Latency')[0].attributes).toMatchObject({ target: '1500', min: '833', max: '3500' });
  });

  it('leaves the standard MPD as it was, and an ended MPD without low-latency signalling', () => {
    const standard = writeMpd(input(), { utcTimingUrl: opts.utcTimingUrl });
    expect(standard).not.toMatch(/availabilityTime|ProducerReferenceTime|latency=low|referenceId/);
    expect(writeMpd(input(500, true), opts)).toBe(writeMpd(input(500, true), { utcTimingUrl: opts.utcTimingUrl }));
  });

  it.skipIf(!haveMpdValidator)('validates against DASH-MPD.xsd (500 and 333 ms parts)', () => {
    expect(validateMpd('ll-500', writeMpd(input(), opts))).toMatch(/validates/);
    expect(validateMpd('ll-333', writeMpd(input(333), { ...opts, query: 'token=x' }))).toMatch(/validates/);
  });
});
