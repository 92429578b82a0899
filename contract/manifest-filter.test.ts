import { describe, expect, it } from 'vitest';
import { type FilterResult, inRanges, parseManifestFilter } from './manifest-filter.ts';

const ok = (raw: string) => {
  const r = parseManifestFilter(raw);
  if (!r.ok) throw new Error(`refused ${raw}: ${r.message}`);
  return r.filter;
};
const refused = (raw: string): string => {
  const r: FilterResult = parseManifestFilter(raw);
  if (r.ok) throw new Error(`accepted ${raw}: ${r.filter.normalised}`);
  return r.message;
};

describe('aws.manifestfilter: every key', () => {
  it.each([
    ['video_codec:h264,H265,av1', 'video_codec:av1,h264,h265'],
    ['video_height:240-360,720-1080,1440,2160', 'video_height:240-360,720-1080,1440,2160'],
    ['video_bitrate:0-9000000', 'video_bitrate:0-9000000'],
    ['video_framerate:23.976-30', 'video_framerate:23.976-30'],
    ['video_dynamic_range:SDR,hdr10,HLG,dv', 'video_dynamic_range:dv,hdr10,hlg,sdr'],
    ['audio_codec:AACL,aach,AC-3,EC-3', 'audio_codec:aach,aacl,ac-3,ec-3'],
    ['audio_language:en-US,FR', 'audio_language:en-us,fr'],
    ['audio_channels:1-2,6', 'audio_channels:1-2,6'],
    ['audio_sample_rate:0-44100', 'audio_sample_rate:0-44100'],
    ['audio_bitrate:64000-192000', 'audio_bitrate:64000-192000'],
    ['subtitle_language:es,en', 'subtitle_language:en,es'],
    ['trickplay_type:IFRAME,image,none', 'trickplay_type:iframe,image,none'],
    ['trickplay_height:180-360', 'trickplay_height:180-360'],
  ])('%s', (raw, normalised) => {
    expect(ok(raw).normalised).toBe(normalised);
  });

  it('reads ranges and lists into their typed form', () => {
    const f = ok('video_height:720-1080,240;audio_codec:ec-3;audio_language:en');
    expect(f.ranges.video_height).toEqual([
      [240, 240],
      [720, 1080],
    ]);
    expect(f.lists.audio_codec).toEqual(['ec-3']);
    expect(f.lists.audio_language).toEqual(['en']);
  });
});

describe('aws.manifestfilter: normalisation', () => {
  it('writes the same filter written two ways the same (keys sorted, values sorted and merged, lower case)', () => {
    const a = ok('video_codec:H264;audio_language:EN,fr;video_height:720-1080,240-360');
    const b = ok(' audio_language:fr,en,en ; VIDEO_HEIGHT:240-300,301-360,1001-1080,720-1000 ;video_codec:h264');
    expect(a.normalised).toBe('audio_language:en,fr;video_codec:h264;video_height:240-360,720-1080');
    expect(b.normalised).toBe(a.normalised);
  });

  it('merges overlapping ranges, adjacent whole-number ranges and single values inside a range', () => {
    expect(ok('audio_channels:1-2,3,2,8-9,7').normalised).toBe('audio_channels:1-3,7-9');
    // Frame rates are decimals: 24-25 and 25.001-30 do not touch.
    expect(ok('video_framerate:25.001-30,24-25,24').normalised).toBe('video_framerate:24-25,25.001-30');
  });

  it('compares frame rates within 0.0005, as MediaPackage does', () => {
    const [range] = [ok('video_framerate:29.97').ranges.video_framerate!];
    expect(inRanges(range, 30000 / 1001, 0.0005)).toBe(true);
    expect(inRanges(range, 30, 0.0005)).toBe(false);
  });
});

describe('aws.manifestfilter: refused, with a message that names the part', () => {
  it.each([
    ['donut_type:rhododendron', /unknown key "donut_type"/],
    ['audio_sample_rate:300-0', /range 300-0 runs backwards \(write 0-300\)/],
    ['audio_sample_rate:0-2147483648', /2147483648 is outside 0-2147483647/],
    ['video_height:0-720', /0 is outside 1-32767/],
    ['audio_channels:40000', /outside 1-32767/],
    ['video_framerate:1000', /1000 is outside 1-999.999/],
    ['video_framerate:29.9701', /at most 3 decimals/],
    ['video_height:720.5', /whole number/],
    ['video_height:1-2-3', /whole number/],
    ['video_height:-5', /whole number/],
    ['audio_sample_rate:is:0-44100', /not a key:value pair/],
    ['video_codec', /not a key:value pair/],
    ['video_codec:', /not a key:value pair/],
    [':h264', /not a key:value pair/],
    ['video_codec:h264;', /not a key:value pair/],
    ['video_codec:h264,,h265', /empty value/],
    ['video_codec:vp9', /"vp9" is not one of H264, H265, AV1/],
    ['audio_codec:opus', /not one of AACL, AACH, AC-3, EC-3/],
    ['video_dynamic_range:hdr', /not one of SDR, HDR10, HLG, DV/],
    ['trickplay_type:thumbs', /not one of IFRAME, IMAGE, NONE/],
    ['audio_language:en us', /not a language code/],
    ['video_height:720;VIDEO_HEIGHT:1080', /video_height appears twice/],
    ['', /empty/],
  ])('%s', (raw, message) => {
    expect(refused(raw)).toMatch(message);
  });

  it('a filter over 1,024 characters', () => {
    const long = `audio_language:${Array.from({ length: 300 }, (_, i) => `l${i}`).join(',')}`;
    expect(long.length).toBeGreaterThan(1024);
    expect(refused(long)).toMatch(/at most 1024/);
    const limit = `audio_language:${'a'.repeat(35)}`;
    expect(parseManifestFilter(limit).ok).toBe(true);
  });
});
