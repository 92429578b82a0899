/**
 * Manifests are built from the packager's template metadata: roles declared at ingest reach the
 * manifests, and bandwidth is measured from stored segments, not copied from the declared rung
 * bitrate (real `wrangler dev`, media cut from an ffmpeg encode).
 */
import { Parser } from 'm3u8-parser';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { loadMedia as encodeMedia, liveK, segmentFor, type Media } from '../test/media.ts';
import { ingestPut, randomEventId } from '../test/ingest-client.ts';

const url = inject('workerUrl');
const D = 2000;
let video: Media;
let audio: Media;
beforeAll(async () => {
  video = await encodeMedia({ kind: 'video' });
  audio = await encodeMedia({ kind: 'audio' });
});

const mpdBandwidth = async (event: string) =>
  Number(
    /<Representation [^>]*bandwidth="(\d+)"/.exec(await (await fetch(`${url}/live/${event}/index.mpd`)).text())?.[1],
  );
async function variant(event: string) {
  const parser = new Parser();
  parser.push(await (await fetch(`${url}/live/${event}/index.m3u8`)).text());
  parser.end();
  return parser.manifest.playlists![0].attributes as Record<string, number>;
}

describe('measured bandwidth in manifests', () => {
  it('declared until segments exist; then peak and mean of the clean segments over D; a short copy does not count', async () => {
    const event = randomEventId();
    const declared = 400_000;
    expect(
      (await ingestPut(url, `${event}/A/v1/init.mp4`, video.init, { meta: { bandwidth: declared, frameRate: '30' } }))
        .status,
    ).toBe(201);
    expect(await mpdBandwidth(event)).toBe(declared);
    expect((await variant(event)).BANDWIDTH).toBe(declared);

    const k = liveK(D) - 4;
    const clean = [k - 2, k - 1, k].map((kk) => segmentFor(video, kk, D));
    for (const [i, seg] of clean.entries())
      expect((await ingestPut(url, `${event}/A/v1/${k - 2 + i}.m4s`, seg)).status).toBe(201);
    // B's copy of k+1 is short: stored, flagged, and left out of the measurement.
    expect(
      (await ingestPut(url, `${event}/A/v1/init.mp4`, video.init, { meta: { bandwidth: declared, frameRate: '30' } }))
        .status,
    ).toBe(204);
    expect(
      (await ingestPut(url, `${event}/B/v1/init.mp4`, video.init, { meta: { bandwidth: declared, frameRate: '30' } }))
        .status,
    ).toBe(201);
    const short = segmentFor(video, k + 1, D, { keepSamples: 5 });
    expect((await ingestPut(url, `${event}/B/v1/${k + 1}.m4s`, short)).headers.get('x-segment-defects')).toContain(
      'short',
    );

    const sizes = clean.map((s) => s.byteLength);
    const peak = Math.round((Math.max(...sizes) * 8000) / D);
    const mean = Math.round((sizes.reduce((a, b) => a + b, 0) / sizes.length) * (8000 / D));
    expect(peak).not.toBe(declared);
    // The edge keeps a manifest for half a segment (its default TTL): the next one shows the change.
    await new Promise((r) => setTimeout(r, D / 2 + 100));
    expect(await mpdBandwidth(event)).toBe(peak);
    const top = await variant(event);
    expect(top.BANDWIDTH).toBe(peak);
    expect(Number(top['AVERAGE-BANDWIDTH'])).toBe(mean);
  });
});

describe('declared roles', () => {
  it('an audio-description track reaches the MPD and the HLS playlist; an unknown role is a 400 that stores nothing', async () => {
    const event = randomEventId();
    expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init)).status).toBe(201);
    const bad = await ingestPut(url, `${event}/A/aad/init.mp4`, audio.init, {
      contentType: 'audio/mp4',
      meta: { bandwidth: 96_000, language: 'en', roles: ['narrator'] } as never,
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'BAD_HEADER',
      message: expect.stringContaining('roles'),
    });
    expect(await (await fetch(`${url}/live/${event}/index.mpd`)).text()).not.toContain('id="aad"');

    expect(
      (
        await ingestPut(url, `${event}/A/aad/init.mp4`, audio.init, {
          contentType: 'audio/mp4',
          meta: { bandwidth: 96_000, language: 'en', label: 'English AD', roles: ['description'] },
        })
      ).status,
    ).toBe(201);
    // The MPD read above is kept by the edge for half a segment: the next one shows the new track.
    await new Promise((r) => setTimeout(r, D / 2 + 100));
    const mpd = await (await fetch(`${url}/live/${event}/index.mpd`)).text();
    expect(mpd).toMatch(
      /<AdaptationSet[^>]*lang="en"[^>]*>(?:(?!<\/AdaptationSet>).)*value="description"(?:(?!<\/AdaptationSet>).)*id="aad"/s,
    );
    const m3u8 = await (await fetch(`${url}/live/${event}/index.m3u8`)).text();
    expect(m3u8).toMatch(
      /#EXT-X-MEDIA:TYPE=AUDIO,[^\n]*NAME="English AD"[^\n]*CHARACTERISTICS="public.accessibility.describes-video"/,
    );
  });
});

describe('declared track order', () => {
  it("lists audio in the publisher's order, not arrival order: the first language is main/default", async () => {
    const event = randomEventId();
    expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init)).status).toBe(201);
    // German arrives first, English last; the bridge numbered them en 0, es 1, de 2 (the event's languages).
    for (const [id, language, order] of [
      ['ade', 'de', 2],
      ['aes', 'es', 1],
      ['aen', 'en', 0],
    ] as const) {
      const put = await ingestPut(url, `${event}/A/${id}/init.mp4`, audio.init, {
        contentType: 'audio/mp4',
        meta: { bandwidth: 96_000, language, order },
      });
      expect(put.status, id).toBe(201);
    }
    const mpd = await (await fetch(`${url}/live/${event}/index.mpd`)).text();
    const sets = [
      ...mpd.matchAll(/<AdaptationSet[^>]*contentType="audio"[^>]*lang="(\w+)"[^>]*>(.*?)<\/AdaptationSet>/gs),
    ];
    expect(sets.map((s) => s[1])).toEqual(['en', 'es', 'de']);
    expect(sets.map((s) => s[2].includes('value="main"'))).toEqual([true, false, false]);
    const m3u8 = await (await fetch(`${url}/live/${event}/index.m3u8`)).text();
    const media = m3u8.split('\n').filter((l) => l.startsWith('#EXT-X-MEDIA:TYPE=AUDIO'));
    expect(media.map((l) => [/LANGUAGE="(\w+)"/.exec(l)?.[1], /DEFAULT=(\w+)/.exec(l)?.[1]])).toEqual([
      ['en', 'YES'],
      ['es', 'NO'],
      ['de', 'NO'],
    ]);
  });
});
