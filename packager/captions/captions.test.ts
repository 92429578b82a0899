import { spawnSync } from 'node:child_process';
import { createFile, MP4BoxBuffer } from 'mp4box';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../contract/errors.ts';
import { PTS_WRAP } from '../../contract/epoch.ts';
import { parseWithMp4box } from '../../test/mp4box-inspect.ts';
import { readInitInfo } from '../init-info.ts';
import { inspectSegment } from '../inspect.ts';
import { cuesInSegment } from './cue.ts';
import { STPP_CODECS, writeStppInit, writeStppSegment } from './stpp.ts';
import { writeTtml } from './ttml.ts';
import { parseWebVtt } from './webvtt-parse.ts';
import { cues, D, K, T0 } from './test-cues.ts';
import { writeVttSegment } from './webvtt-segment.ts';

describe('cuesInSegment', () => {
  it('keeps cues overlapping [K·D, (K+1)·D), clipped to it', () => {
    expect(cuesInSegment(cues, K, D)).toEqual([
      { startMs: T0, endMs: T0 + 300, text: 'spans the start' },
      { startMs: T0 + 500, endMs: T0 + 1500, text: 'Fish & <chips>\nsecond line' },
      { startMs: T0 + 1800, endMs: T0 + 2000, text: 'spans the end' },
    ]);
    expect(cuesInSegment(cues, K + 1, D).map((c) => c.text)).toEqual(['spans the end', 'next segment only']);
  });
});

describe('WebVTT segment', () => {
  it('maps LOCAL 0 to K·D at 90 kHz wrapped to 33 bits and writes cue times relative to it', () => {
    const vtt = writeVttSegment(cues, K, D);
    const mpegTs = (T0 * 90) % PTS_WRAP;
    expect(vtt.startsWith(`WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:${mpegTs},LOCAL:00:00:00.000\n\n`)).toBe(true);
    expect(vtt).toContain('00:00:00.500 --> 00:00:01.500\nFish &amp; &lt;chips&gt;\nsecond line\n');
    expect(vtt).toContain('00:00:01.800 --> 00:00:02.000\nspans the end\n');
  });

  it('round-trips through the ingest parser to the same cues on the epoch timeline', () => {
    const parsed = parseWebVtt(writeVttSegment(cues, K, D), T0);
    expect(parsed).toEqual(cuesInSegment(cues, K, D));
  });

  it('is a valid empty segment without cues', () => {
    const vtt = writeVttSegment([], K, D);
    expect(parseWebVtt(vtt, T0)).toEqual([]);
    expect(vtt.trim().split('\n')).toHaveLength(2);
  });
});

describe('WebVTT ingest parser', () => {
  it('reads epoch timestamps when there is no X-TIMESTAMP-MAP, drops tags, skips NOTE blocks', () => {
    const body =
      'WEBVTT\n\nNOTE from the captioner\n\ncue-1\n490039:10:00.000 --> 490039:10:01.250 align:center\n<v Anna>Hello</v> &amp; welcome\n';
    expect(parseWebVtt(body, Date.now())).toEqual([
      { startMs: 490039 * 3_600_000 + 600_000, endMs: 490039 * 3_600_000 + 601_250, text: 'Hello & welcome' },
    ]);
  });

  it.each([
    ['no WEBVTT line', 'hello\n', /line 1: .*WEBVTT/],
    ['bad timing', 'WEBVTT\n\n00:01.000 -> 00:02.000\nx\n', /line 3: a cue needs a timing line/],
    ['bad timestamp', 'WEBVTT\n\n00:01.0 --> 00:02.000\nx\n', /line 3: .*is not/],
    ['end before start', 'WEBVTT\n\n00:02.000 --> 00:01.000\nx\n', /line 3: a cue must end after it starts/],
    [
      'bad map',
      'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:abc,LOCAL:00:00:00.000\n\n00:01.000 --> 00:02.000\nx\n',
      /line 2: X-TIMESTAMP-MAP/,
    ],
  ])('rejects %s with BAD_BODY naming the line', (_, body, message) => {
    let error: unknown;
    try {
      parseWebVtt(body, Date.now());
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('BAD_BODY');
    expect((error as AppError).message).toMatch(message);
  });
});

describe('IMSC1 TTML document', () => {
  it('writes begin/end on the track media timeline (epoch ms), escaped text, <br/> for line breaks', () => {
    const doc = writeTtml(cues, K, D, 'en');
    expect(doc).toContain('ttp:profile="http://www.w3.org/ns/ttml/profile/imsc1/text"');
    expect(doc).toContain('xml:lang="en"');
    expect(doc).toContain(
      '<p begin="490078:20:00.500" end="490078:20:01.500" region="bottom" style="paragraph"><span style="caption">Fish &amp; &lt;chips&gt;<br/>second line</span></p>',
    );
    expect(doc).toContain('begin="490078:20:00.000" end="490078:20:00.300"');
    expect(T0).toBe(490078 * 3_600_000 + 20 * 60_000);
  });

  it('is well-formed XML (xmllint), with cues and empty', () => {
    for (const list of [cues, []]) {
      const out = spawnSync('xmllint', ['--noout', '-'], { input: writeTtml(list, K, D, 'es'), encoding: 'utf8' });
      expect(out.status, out.stderr).toBe(0);
    }
  });
});

describe('stpp init and segment', () => {
  const init = writeStppInit('es');
  const segment = writeStppSegment(cues, K, D, 'es');

  it('mp4box reads an stpp track with timescale 1000, one sync sample of D at tfdt K·D', () => {
    const parsed = parseWithMp4box(init, segment);
    expect(parsed.codec.startsWith('stpp')).toBe(true);
    expect(parsed).toMatchObject({
      timescale: 1000,
      baseMediaDecodeTime: T0,
      sampleCount: 1,
      duration: D,
      firstIsSync: true,
    });
  });

  it('mp4box sees the subt handler, the language and the TTML document as the sample', () => {
    const file = createFile();
    const all = new Uint8Array(init.byteLength + segment.byteLength);
    all.set(init);
    all.set(segment, init.byteLength);
    let samples: { data: Uint8Array; cts: number; duration: number }[] = [];
    file.onReady = (info: any) => {
      file.setExtractionOptions(info.tracks[0].id, null, { nbSamples: 10 });
      file.start();
    };
    file.onSamples = (_id: number, _user: unknown, s: any[]) => (samples = samples.concat(s));
    file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(all.buffer, 0));
    file.flush();
    const info = file.getInfo();
    // mdhd carries ISO 639-2/T; elng the BCP-47 tag (mp4box prefers it for the track language).
    expect((file as any).moov.traks[0].mdia.mdhd.languageString).toBe('spa');
    expect(info.tracks[0].language.replace(/\0$/, '')).toBe('es');
    expect((file as any).moov.traks[0].mdia.hdlr.handler).toBe('subt');
    expect(samples).toHaveLength(1);
    expect(samples[0].cts).toBe(T0);
    expect(new TextDecoder().decode(samples[0].data)).toBe(writeTtml(cues, K, D, 'es'));
  });

  it('passes our own ingest inspection as a clean text segment', () => {
    const info = readInitInfo(init);
    expect(info).toMatchObject({ kind: 'text', timescale: 1000, codecs: 'stpp' });
    expect(inspectSegment(segment, info, K, D).defects).toEqual([]);
    expect(STPP_CODECS).toBe('stpp.ttml.im1t');
  });
});
