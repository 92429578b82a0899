/**
 * Captions against a real `wrangler dev`: the captions API (auth, validation that stores nothing
 * on failure), the {K}.vtt ingest PUT, and the text tracks served per K as WebVTT and stpp with
 * live-edge semantics, listed in both manifests.
 */
import { Parser } from 'm3u8-parser';
import { createFile, MP4BoxBuffer } from 'mp4box';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { PTS_WRAP } from '../contract/epoch.ts';
import { defaultEventConfig } from '../contract/event-config.ts';
import { loadMedia as encodeMedia, liveK, segmentFor, type Media } from '../test/media.ts';
import { DEV_OPERATOR_TOKEN, devToken, getBytes, ingestPut, randomEventId } from '../test/ingest-client.ts';
import { parseWithMp4box } from '../test/mp4box-inspect.ts';

const url = inject('workerUrl');
const { segmentDurationMs: D, dvrWindowSeconds } = defaultEventConfig;
let video: Media;

beforeAll(async () => {
  video = await encodeMedia({ kind: 'video' });
});

/** An event with media published up to K and the given caption languages declared. */
async function newEvent(
  k: number,
  captions = [
    { language: 'en', label: 'English', default: true },
    { language: 'es', label: 'Español' },
  ],
) {
  const event = randomEventId('cap');
  expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init)).status).toBe(201);
  expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, segmentFor(video, k, D))).status).toBe(201);
  if (captions.length > 0) {
    const res = await fetch(`${url}/api/events/${event}/config`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ captions }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
  }
  return event;
}

async function post(event: string, body: unknown, token?: string | null): Promise<Response> {
  if (token === undefined) token = await devToken('captions', event);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return fetch(`${url}/api/events/${event}/captions`, { method: 'POST', headers, body: JSON.stringify(body) });
}

const iso = (ms: number) => new Date(ms).toISOString();
const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
const vttCueLines = (vtt: string) => vtt.split('\n').filter((l) => l.includes('-->'));

/** The TTML document of an stpp segment, read with mp4box (not our own reader). */
function stppDocument(init: Uint8Array, segment: Uint8Array): { cts: number; duration: number; text: string } {
  const all = new Uint8Array(init.byteLength + segment.byteLength);
  all.set(init);
  all.set(segment, init.byteLength);
  const file = createFile();
  let samples: { data: Uint8Array; cts: number; duration: number }[] = [];
  file.onReady = (info: any) => {
    file.setExtractionOptions(info.tracks[0].id, null, { nbSamples: 10 });
    file.start();
  };
  file.onSamples = (_id: number, _u: unknown, s: any[]) => (samples = samples.concat(s));
  file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(all.buffer, 0));
  file.flush();
  expect(samples).toHaveLength(1);
  return { cts: samples[0].cts, duration: samples[0].duration, text: new TextDecoder().decode(samples[0].data) };
}

describe('captions API', () => {
  it("wants a captions token of this event: 401 without, 403 with the operator, an ingest or another event's token; nothing stored", async () => {
    const k = liveK(D) - 3;
    const event = await newEvent(k);
    const body = { language: 'en', cues: [{ start: iso(k * D + 100), end: iso(k * D + 900), text: 'no auth' }] };
    expect((await post(event, body, null)).status).toBe(401);
    expect((await post(event, body, DEV_OPERATOR_TOKEN)).status).toBe(403);
    expect((await post(event, body, await devToken('ingest', event))).status).toBe(403);
    expect((await post(event, body, await devToken('captions', 'another-event'))).status).toBe(403);
    const vtt = await (await fetch(`${url}/live/${event}/text-en/${k}.vtt`)).text();
    expect(vttCueLines(vtt)).toEqual([]);
  });

  it('refuses bad bodies with 400 and stores none of their cues', async () => {
    const k = liveK(D) - 3;
    const event = await newEvent(k);
    const good = { start: iso(k * D + 100), end: iso(k * D + 900), text: 'good cue' };
    for (const body of [
      {
        language: 'en',
        cues: [good, { start: iso(k * D + 900), end: iso(k * D + 100), text: 'ends before it starts' }],
      },
      { language: 'en', cues: [good, { start: iso(k * D), end: iso(k * D + 61_000), text: 'too long' }] },
      { language: 'en', cues: [good, { start: 'yesterday', end: iso(k * D), text: 'bad date' }] },
      { language: 'en', cues: [] },
      { language: 'fr', cues: [good] }, // not declared
      {
        language: 'en',
        cues: [
          good,
          {
            start: iso(k * D - (dvrWindowSeconds + 60) * 1000),
            end: iso(k * D - (dvrWindowSeconds + 59) * 1000),
            text: 'before the DVR window',
          },
        ],
      },
    ]) {
      const res = await post(event, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await errorCode(res)).toBe('BAD_BODY');
    }
    const vtt = await (await fetch(`${url}/live/${event}/text-en/${k}.vtt`)).text();
    expect(vttCueLines(vtt)).toEqual([]);
  });

  it('stores cues and serves them in the segment K they overlap, as WebVTT and as stpp', async () => {
    const k = liveK(D) - 3;
    const event = await newEvent(k);
    const body = {
      language: 'es',
      cues: [
        { start: iso(k * D + 250), end: iso(k * D + 1250), text: 'Hola & <adiós>' },
        { start: iso(k * D + 1500), end: iso(k * D + 2500), text: 'cruza el límite' },
      ],
    };
    const res = await post(event, body);
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ track: 'text-es', received: 2, added: 2 });
    // A retry adds nothing.
    const again = await post(event, body);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ track: 'text-es', received: 2, added: 0 });

    const vttRes = await fetch(`${url}/live/${event}/text-es/${k}.vtt`);
    expect(vttRes.status).toBe(200);
    expect(vttRes.headers.get('content-type')).toBe('text/vtt; charset=utf-8');
    const vtt = await vttRes.text();
    expect(vtt).toContain(`X-TIMESTAMP-MAP=MPEGTS:${(k * D * 90) % PTS_WRAP},LOCAL:00:00:00.000`);
    expect(vtt).toContain('00:00:00.250 --> 00:00:01.250\nHola &amp; &lt;adiós&gt;\n');
    expect(vtt).toContain('00:00:01.500 --> 00:00:02.000\ncruza el límite\n');
    // The cue that crosses the boundary continues in K+1, from its start.
    const next = await (await fetch(`${url}/live/${event}/text-es/${k + 1}.vtt`)).text();
    expect(vttCueLines(next)).toEqual(['00:00:00.000 --> 00:00:00.500']);
    // The other language has none.
    expect(vttCueLines(await (await fetch(`${url}/live/${event}/text-en/${k}.vtt`)).text())).toEqual([]);

    const init = await getBytes(`${url}/live/${event}/text-es/init.mp4`);
    const seg = await getBytes(`${url}/live/${event}/text-es/${k}.m4s`);
    expect(init.res.status).toBe(200);
    expect(seg.res.status).toBe(200);
    expect(seg.res.headers.get('content-type')).toBe('application/mp4');
    expect(parseWithMp4box(init.bytes, seg.bytes)).toMatchObject({
      timescale: 1000,
      baseMediaDecodeTime: k * D,
      sampleCount: 1,
      duration: D,
    });
    const doc = stppDocument(init.bytes, seg.bytes);
    expect(doc.cts).toBe(k * D);
    expect(doc.text).toContain('Hola &amp; &lt;adiós&gt;</span></p>');
    expect(doc.text.match(/<p /g)).toHaveLength(2);
  });

  it('answers a K without cues with an empty segment, a future K 404 and a K outside the DVR window 410', async () => {
    const k = liveK(D) - 3;
    const event = await newEvent(k);
    const empty = await fetch(`${url}/live/${event}/text-en/${k - 1}.vtt`);
    expect(empty.status).toBe(200);
    expect(vttCueLines(await empty.text())).toEqual([]);
    const emptyStpp = await getBytes(`${url}/live/${event}/text-en/${k - 1}.m4s`);
    expect(emptyStpp.res.status).toBe(200);
    const future = await fetch(`${url}/live/${event}/text-en/${k + 20}.vtt`);
    expect(future.status).toBe(404);
    expect(await errorCode(future)).toBe('SEGMENT_NOT_YET_AVAILABLE');
    const old = await fetch(`${url}/live/${event}/text-en/${k - (dvrWindowSeconds * 1000) / D - 5}.vtt`);
    expect(old.status).toBe(410);
    expect((await fetch(`${url}/live/${event}/text-fr/${k}.vtt`)).status).toBe(404);
  });
});

describe('DVR eviction', () => {
  it('forgets cues that left the DVR window and keeps the rest', async () => {
    const k = liveK(D) - 3;
    const event = await newEvent(k);
    const cue = (kk: number, text: string) => ({ start: iso(kk * D), end: iso(kk * D + 1000), text });
    // Cues are accepted only while their segment can still change, so an old cue is made by time:
    // one for K now, one 6 segments later; then a 10 s window lets the first one fall out.
    expect((await post(event, { language: 'en', cues: [cue(k, 'soon gone'), cue(k + 6, 'still here')] })).status).toBe(
      201,
    );
    const storage = async () =>
      (
        (await (
          await fetch(`${url}/api/events/${event}/storage`, {
            headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` },
          })
        ).json()) as { cues: number }
      ).cues;
    expect(await storage()).toBe(2);
    // Shrink the window once K's cue is older than 10 s (a shrink evicts about a second later).
    await new Promise((r) => setTimeout(r, Math.max(0, k * D + 1000 + 10_000 + 2 * D - Date.now())));
    const res = await fetch(`${url}/api/events/${event}/config`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ dvrWindowSeconds: 10 }),
    });
    expect(res.status).toBe(200);
    const deadline = Date.now() + 25_000;
    while (Date.now() < deadline && (await storage()) !== 1) await new Promise((r) => setTimeout(r, 250));
    expect(await storage()).toBe(1);
    expect((await fetch(`${url}/live/${event}/text-en/${k}.vtt`)).status).toBe(410);
  }, 40_000);

  it('refuses a cue whose segment is already final (cached for good), storing none of the request', async () => {
    const k = liveK(D) - 3;
    const event = await newEvent(k);
    const cue = (kk: number, text: string) => ({ start: iso(kk * D), end: iso(kk * D + 1000), text });
    const res = await post(event, { language: 'en', cues: [cue(k, 'on time'), cue(k - 10, 'twenty seconds late')] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/cue 2 .* too late/);
    expect(await (await fetch(`${url}/live/${event}/text-en/${k}.vtt`)).text()).not.toContain('on time');
  });
});

describe('{K}.vtt ingest PUT', () => {
  const put = async (event: string, k: number, body: string, contentType = 'text/vtt', track = 'text-en') =>
    fetch(`${url}/ingest/${event}/A/${track}/${k}.vtt`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${await devToken('ingest', event, 'A')}`, 'content-type': contentType },
      body,
    });

  it('stores cues given with X-TIMESTAMP-MAP or in epoch time; refuses bad input and changes nothing', async () => {
    const k = liveK(D) - 3;
    const event = await newEvent(k);
    const mapped = `WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:${(k * D * 90) % PTS_WRAP},LOCAL:00:00:00.000\n\n00:00:00.100 --> 00:00:00.900\nfrom the bridge\n`;
    expect((await put(event, k, mapped, 'application/octet-stream')).status).toBe(415);
    expect((await put(event, k, 'WEBVTT\n\nnot a cue\n')).status).toBe(400);
    // A cue outside segment K (here: in K+1) is refused, with the good one beside it.
    const outside = `WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:${(k * D * 90) % PTS_WRAP},LOCAL:00:00:00.000\n\n00:00:00.100 --> 00:00:00.900\nok\n\n00:00:02.100 --> 00:00:02.900\nnext segment\n`;
    const res = await put(event, k, outside);
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('BAD_BODY');
    expect((await put(event, k, mapped, 'text/vtt', 'text-de')).status).toBe(404);
    expect(vttCueLines(await (await fetch(`${url}/live/${event}/text-en/${k}.vtt`)).text())).toEqual([]);

    expect((await put(event, k, mapped)).status).toBe(201);
    expect((await put(event, k, mapped)).status).toBe(204);
    const h = (ms: number) =>
      `${String(Math.floor(ms / 3_600_000)).padStart(2, '0')}:${new Date(ms).toISOString().slice(14, 23)}`;
    const epoch = `WEBVTT\n\n${h(k * D + 1000)} --> ${h(k * D + 1800)}\nepoch timed\n`;
    expect((await put(event, k, epoch)).status).toBe(201);
    // The empty segment read above is kept by the edge while it may still change (1 s).
    await new Promise((r) => setTimeout(r, 1100));
    const vtt = await (await fetch(`${url}/live/${event}/text-en/${k}.vtt`)).text();
    expect(vtt).toContain('00:00:00.100 --> 00:00:00.900\nfrom the bridge\n');
    expect(vtt).toContain('00:00:01.000 --> 00:00:01.800\nepoch timed\n');
  });
});

describe('manifests', () => {
  it('list declared caption languages before any cue: HLS SUBTITLES group and .vtt playlists, DASH stpp AdaptationSets', async () => {
    const k = liveK(D) - 3;
    const event = await newEvent(k);
    const parser = new Parser();
    parser.push(await (await fetch(`${url}/live/${event}/index.m3u8`)).text());
    parser.end();
    const subs = parser.manifest.mediaGroups.SUBTITLES.subs;
    expect(Object.keys(subs)).toEqual(['English', 'Español']);
    expect(subs.English).toMatchObject({ language: 'en', default: true, autoselect: true, uri: 'text-en/index.m3u8' });
    expect(subs['Español']).toMatchObject({ language: 'es', default: false });
    expect(parser.manifest.playlists[0].attributes.SUBTITLES).toBe('subs');

    const media = await (await fetch(`${url}/live/${event}/text-en/index.m3u8`)).text();
    expect(media).not.toContain('EXT-X-MAP');
    expect(media).toContain(`\n${k}.vtt\n`);

    const mpd = await (await fetch(`${url}/live/${event}/index.mpd`)).text();
    expect(mpd).toMatch(/<AdaptationSet id="\d+" contentType="text" lang="en" mimeType="application\/mp4"/);
    expect(mpd).toContain('<Role schemeIdUri="urn:mpeg:dash:role:2011" value="subtitle"/>');
    expect(mpd).toContain('<Representation id="text-es" bandwidth="4000" codecs="stpp.ttml.im1t"/>');
  });
});
