/**
 * Personalised manifests on the real Worker in workerd (docs/manifests.md): an event with an AVC +
 * HEVC + AAC + E-AC-3 ladder, written whole without personalisation and only with what the device
 * plays for `?device=`; the MediaPackage-compatible `?aws.manifestfilter=` alone and with a
 * profile; one cache entry for two spellings of one filter; the device profile API.
 */
import { getElementsByName, parseXml } from '@svta/cml-xml';
import { Parser } from 'm3u8-parser';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultEventConfig } from '../contract/event-config.ts';
import {
  DEV_OPERATOR_READ_TOKEN,
  DEV_OPERATOR_TOKEN,
  devPlayerToken,
  ingestPut,
  randomEventId,
} from '../test/ingest-client.ts';
import { MIXED_CODEC_LADDER as LADDER } from '../test/mixed-codec-ladder.ts';
import { liveK, loadMedia, segmentFor } from '../test/media.ts';

const url = inject('workerUrl');
const { segmentDurationMs: D } = defaultEventConfig;

let event: string;
beforeAll(async () => {
  event = await publishLadder('perso');
});

/** A new event with the whole ladder: its init and one segment per track. */
async function publishLadder(prefix: string): Promise<string> {
  const event = randomEventId(prefix);
  const k = liveK(D) - 2;
  for (const t of LADDER) {
    const media = await loadMedia(t.media);
    const contentType = t.media.kind === 'audio' ? 'audio/mp4' : 'video/mp4';
    expect(
      (await ingestPut(url, `${event}/A/${t.id}/init.mp4`, media.init, { contentType, meta: t.meta })).status,
    ).toBe(201);
    expect((await ingestPut(url, `${event}/A/${t.id}/${k}.m4s`, segmentFor(media, k, D), { contentType })).status).toBe(
      201,
    );
  }
  return event;
}

const get = (path: string) => fetch(`${url}/live/${event}/${path}`);
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;
const operator = (method: string, path: string, body?: unknown, token = DEV_OPERATOR_TOKEN) =>
  fetch(`${url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });

/** The MPD's AdaptationSets as [contentType, codecs of its Representations]. */
async function mpdSets(query = ''): Promise<[string, string[]][]> {
  const res = await get(`index.mpd${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return getElementsByName(parseXml(await res.text()), 'AdaptationSet').map((set) => [
    set.attributes.contentType,
    // Sorted: the order within a set follows measured bandwidths, which these short fixtures do not fix.
    getElementsByName(set, 'Representation')
      .map((r) => `${r.attributes.id}:${r.attributes.codecs}`)
      .sort(),
  ]);
}

interface Variant {
  uri: string;
  attributes: { CODECS: string; AUDIO?: string };
}
/** The multivariant playlist through m3u8-parser: variants and audio groups. */
async function hls(query = '') {
  const res = await get(`index.m3u8${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  const parser = new Parser();
  parser.push(await res.text());
  parser.end();
  const m = parser.manifest as {
    playlists: Variant[];
    mediaGroups: { AUDIO: Record<string, Record<string, { uri: string; default: boolean }>> };
  };
  return {
    // Sorted within each audio group (the order follows measured bandwidths).
    variants: m.playlists
      .map((p) => `${p.attributes.AUDIO} ${p.uri} ${p.attributes.CODECS}`)
      .sort((a, b) => (a.split(' ')[0] === b.split(' ')[0] ? (a < b ? -1 : 1) : 0)),
    audio: Object.fromEntries(
      Object.entries(m.mediaGroups.AUDIO).map(([group, renditions]) => [
        group,
        Object.values(renditions).map((r) => r.uri),
      ]),
    ),
  };
}

describe('an AVC + HEVC + AAC + E-AC-3 event', () => {
  it('unpersonalised: every track, HEVC and E-AC-3 in their own AdaptationSets and HLS groups', async () => {
    expect(await mpdSets()).toEqual([
      ['video', ['v180:avc1.42c014', 'v360:avc1.42c01e']],
      ['video', ['h180:hvc1.1.6.L60.90']],
      ['audio', ['aen:mp4a.40.2']],
      ['audio', ['aes:mp4a.40.2']],
      ['audio', ['aen51:ec-3']],
    ]);
    const { variants, audio } = await hls();
    expect(audio).toEqual({ 'aud-aac': ['aen/index.m3u8', 'aes/index.m3u8'], 'aud-ec3': ['aen51/index.m3u8'] });
    expect(variants).toEqual([
      'aud-aac h180/index.m3u8 hvc1.1.6.L60.90,mp4a.40.2',
      'aud-aac v180/index.m3u8 avc1.42c014,mp4a.40.2',
      'aud-aac v360/index.m3u8 avc1.42c01e,mp4a.40.2',
      'aud-ec3 h180/index.m3u8 hvc1.1.6.L60.90,ec-3',
      'aud-ec3 v180/index.m3u8 avc1.42c014,ec-3',
      'aud-ec3 v360/index.m3u8 avc1.42c01e,ec-3',
    ]);
  });

  it('?device=browser: only what Chromium plays, and media playlists of the rest answer 404', async () => {
    expect(await mpdSets('?device=browser')).toEqual([
      ['video', ['v180:avc1.42c014', 'v360:avc1.42c01e']],
      ['audio', ['aen:mp4a.40.2']],
      ['audio', ['aes:mp4a.40.2']],
    ]);
    const { variants, audio } = await hls('?device=browser');
    // Media playlist URIs carry the device, so each is written for the same profile.
    expect(audio).toEqual({ 'aud-aac': ['aen/index.m3u8?device=browser', 'aes/index.m3u8?device=browser'] });
    expect(variants).toEqual([
      'aud-aac v180/index.m3u8?device=browser avc1.42c014,mp4a.40.2',
      'aud-aac v360/index.m3u8?device=browser avc1.42c01e,mp4a.40.2',
    ]);
    expect((await get('v180/index.m3u8?device=browser')).status).toBe(200);
    const hevc = await get('h180/index.m3u8?device=browser');
    expect(hevc.status).toBe(404);
    expect((await errorOf(hevc)).code).toBe('TRACK_NOT_FOUND');
    expect((await get('aen51/index.m3u8?device=browser')).status).toBe(404);
    expect((await get('aen51/index.m3u8?device=tv-hevc')).status).toBe(200);
    // Unpersonalised, the same playlists exist.
    expect((await get('h180/index.m3u8')).status).toBe(200);
  });

  it('?device=tv-hevc keeps HEVC and E-AC-3; an unknown device gets the safe default (legacy-avc)', async () => {
    expect((await mpdSets('?device=tv-hevc')).flatMap(([, reps]) => reps)).toEqual([
      'v180:avc1.42c014',
      'v360:avc1.42c01e',
      'h180:hvc1.1.6.L60.90',
      'aen:mp4a.40.2',
      'aes:mp4a.40.2',
      'aen51:ec-3',
    ]);
    const unknown = await get('index.mpd?device=Fridge-3000');
    expect(unknown.headers.get('x-device-profile')).toBe('legacy-avc');
    const text = await unknown.text();
    expect(text).not.toMatch(/hvc1|ec-3/);
    expect(text).toMatch(/avc1.42c01e/);
  });

  it("a player token's device claim wins over ?device=, and media playlist URIs need no ?device= then", async () => {
    const token = await devPlayerToken(event, { device: 'browser' });
    const res = await get(`index.m3u8?device=tv-hevc&token=${encodeURIComponent(token)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-device-profile')).toBe('browser');
    const text = await res.text();
    expect(text).not.toMatch(/hvc1|ec-3|device=/);
    const mpd = await get(`index.mpd?token=${encodeURIComponent(token)}`);
    expect(mpd.headers.get('x-device-profile')).toBe('browser');
    expect((await get(`h180/index.m3u8?token=${encodeURIComponent(token)}`)).status).toBe(404);
  });

  it('aws.manifestfilter alone, and combined with a profile (both must allow a track)', async () => {
    const filter = (f: string) => `aws.manifestfilter=${encodeURIComponent(f)}`;
    expect(await mpdSets(`?${filter('video_codec:H265;audio_codec:EC-3')}`)).toEqual([
      ['video', ['h180:hvc1.1.6.L60.90']],
      ['audio', ['aen51:ec-3']],
    ]);
    expect(await mpdSets(`?device=tv-hevc&${filter('video_height:360;audio_language:es')}`)).toEqual([
      ['video', ['v360:avc1.42c01e']],
      ['audio', ['aes:mp4a.40.2']],
    ]);
    // One dimension matching nothing is a 200 with the rest (MediaPackage: audio_language:dahlia).
    expect(await mpdSets(`?${filter('audio_language:dahlia')}`)).toEqual([
      ['video', ['v180:avc1.42c014', 'v360:avc1.42c01e']],
      ['video', ['h180:hvc1.1.6.L60.90']],
    ]);
    // Nothing left at all: 400. The browser plays neither HEVC nor E-AC-3.
    const empty = await get(`index.m3u8?device=browser&${filter('video_codec:h265;audio_codec:ec-3')}`);
    expect(empty.status).toBe(400);
    expect(await errorOf(empty)).toMatchObject({ code: 'MANIFEST_FILTER_EMPTY' });
  });

  it('the same filter written two ways is one cache entry', async () => {
    const a = await get(`index.m3u8?aws.manifestfilter=${encodeURIComponent('video_height:180-360;audio_codec:aacl')}`);
    expect(a.status).toBe(200);
    expect(a.headers.get('x-cache')).toBe('origin');
    expect(a.headers.get('x-manifest-filter')).toBe('audio_codec:aacl;video_height:180-360');
    const b = await get(
      `index.m3u8?aws.manifestfilter=${encodeURIComponent('AUDIO_CODEC:AACL,aacl ; video_height:181-360,180')}`,
    );
    expect(b.headers.get('x-cache')).toBe('hot');
    expect(await b.text()).toBe(await a.text());
    // Concurrent players with either spelling share one fill (coalesced on the normalised key).
    const spellings = ['audio_codec:EC-3;video_height:180-360', 'video_height:181-360,180 ; audio_codec:ec-3'];
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => get(`index.mpd?aws.manifestfilter=${encodeURIComponent(spellings[i % 2])}`)),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(answers.filter((r) => r.headers.get('x-cache') === 'origin')).toHaveLength(1);
    expect(new Set(answers.map((r) => r.headers.get('etag'))).size).toBe(1);
    // The unfiltered playlist is another entry.
    expect(await (await get('index.m3u8')).text()).not.toBe(await (await get('index.m3u8?device=browser')).text());
  });

  it('personalisations that keep the same tracks share one cache entry and one origin request', async () => {
    const fresh = await publishLadder('perso-kept');
    const mf = (f: string) => `aws.manifestfilter=${encodeURIComponent(f)}`;
    // Three track sets, each chosen several ways: spellings of one filter, other filters, a
    // profile, a profile with a filter. One concurrent burst of players.
    const groups = [
      [
        mf('video_codec:h264;audio_codec:aacl'),
        mf('AUDIO_CODEC:AACL ; video_codec:H264,h264'),
        mf('video_codec:h264;audio_channels:1-2'),
        mf('video_height:100-400;video_codec:h264;audio_language:en,es;audio_channels:2'),
        'device=browser',
        `device=browser&${mf('audio_language:es,en')}`,
      ],
      [mf('audio_language:en'), mf('AUDIO_LANGUAGE:EN,en'), mf('audio_language:en;video_height:1-1000')],
      [mf('video_codec:h265'), mf('video_codec:H265;video_framerate:29-31'), mf('video_height:180;video_codec:h265')],
    ];
    const asks = groups.flatMap((queries, group) =>
      Array.from({ length: 12 }, (_, i) => ({ group, query: queries[i % queries.length] })),
    );
    const answers = await Promise.all(
      asks.map(async ({ group, query }) => {
        const res = await fetch(`${url}/live/${fresh}/index.mpd?${query}`);
        return {
          group,
          query,
          status: res.status,
          body: await res.text(),
          cache: res.headers.get('x-cache'),
          input: res.headers.get('x-manifest-input'),
          filter: res.headers.get('x-manifest-filter'),
          device: res.headers.get('x-device-profile'),
        };
      }),
    );
    expect(answers.map((a) => a.status)).toEqual(asks.map(() => 200));
    for (const group of groups.keys()) {
      const ofGroup = answers.filter((a) => a.group === group);
      expect(new Set(ofGroup.map((a) => a.body)).size, `group ${group}`).toBe(1);
      // One fill per track set (every other request waited for it or found it).
      expect(
        ofGroup.filter((a) => a.cache === 'origin'),
        `group ${group}`,
      ).toHaveLength(1);
    }
    expect(new Set(answers.map((a) => a.body)).size).toBe(3);
    // And the three fills made one origin request between them: the rest came from the memo.
    const fills = answers.filter((a) => a.cache === 'origin');
    expect(fills.map((a) => a.input).sort()).toEqual(['memo', 'memo', 'origin']);
    // Each answer still says what applied to its own request.
    const browserFiltered = answers.find((a) => a.query.startsWith('device=browser&'));
    expect(browserFiltered).toMatchObject({ device: 'browser', filter: 'audio_language:en,es' });
    expect(answers.find((a) => a.query === 'device=browser')).toMatchObject({ device: 'browser', filter: null });
    expect(answers.find((a) => a.query === mf('AUDIO_LANGUAGE:EN,en'))).toMatchObject({
      device: null,
      filter: 'audio_language:en',
    });
    expect(answers[0].body).not.toMatch(/hvc1|ec-3/);

    // A filter that keeps every track is the unpersonalised manifest's entry.
    const plain = await fetch(`${url}/live/${fresh}/index.m3u8`);
    const everything = await fetch(`${url}/live/${fresh}/index.m3u8?${mf('video_height:1-4000')}`);
    expect(everything.headers.get('x-cache')).toMatch(/^(hot|shared)$/);
    expect(everything.headers.get('x-manifest-filter')).toBe('video_height:1-4000');
    expect(await everything.text()).toBe(await plain.text());
    // The multivariant playlist's URIs carry ?device=: the profile's answer is its own entry.
    const device = await (await fetch(`${url}/live/${fresh}/index.m3u8?device=browser`)).text();
    const filtered = await (
      await fetch(`${url}/live/${fresh}/index.m3u8?${mf('video_codec:h264;audio_codec:aacl')}`)
    ).text();
    expect(device).toMatch(/\?device=browser/);
    expect(filtered).not.toMatch(/device=/);
  });

  it.each([
    ['index.mpd?aws.manifestfilter=donut_type:rhododendron', 'MANIFEST_FILTER_INVALID', /unknown key "donut_type"/],
    ['index.mpd?aws.manifestfilter=audio_sample_rate:300-0', 'MANIFEST_FILTER_INVALID', /runs backwards/],
    ['index.mpd?aws.manifestfilter=audio_sample_rate:0-2147483648', 'MANIFEST_FILTER_INVALID', /outside/],
    ['index.m3u8?aws.manifestfilter=audio_sample_rate:is:0-44100', 'MANIFEST_FILTER_INVALID', /key:value/],
    [
      'index.m3u8?aws.manifestfilter=video_height:1&aws.manifestfilter=video_height:2',
      'MANIFEST_FILTER_INVALID',
      /given 2 times/,
    ],
    [`index.mpd?aws.manifestfilter=audio_language:${'a,'.repeat(520)}a`, 'MANIFEST_FILTER_INVALID', /at most 1024/],
    ['v180/index.m3u8?aws.manifestfilter=video_codec:h264', 'MANIFEST_FILTER_NOT_HERE', /index.mpd and index.m3u8/],
    ['v180/init.mp4?aws.manifestfilter=video_codec:h264', 'MANIFEST_FILTER_NOT_HERE', /segments/],
    [`v180/${liveK(D) - 2}.m4s?aws.manifestfilter=video_codec:h264`, 'MANIFEST_FILTER_NOT_HERE', /segments/],
  ])('400: %s', async (path, code, message) => {
    const res = await get(path);
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });
});

describe('an encrypted event', () => {
  it('signals only the profile DRM system (and the ClearKey license URL only for ClearKey devices)', async () => {
    const enc = randomEventId('perso-drm');
    const put = await operator('PUT', `/api/events/${enc}/drm`, { drm: { scheme: 'cenc' } });
    expect(put.status).toBe(200);
    const media = await loadMedia({ kind: 'video' });
    expect((await ingestPut(url, `${enc}/A/v180/init.mp4`, media.init)).status).toBe(201);
    const k = liveK(D) - 2;
    expect((await ingestPut(url, `${enc}/A/v180/${k}.m4s`, segmentFor(media, k, D))).status).toBe(201);
    /** The MPD's ContentProtection descriptors as scheme[=value], and whether a ClearKey license URL is there. */
    const protection = async (query: string) => {
      const text = await (await fetch(`${url}/live/${enc}/index.mpd${query}`)).text();
      const cp = getElementsByName(parseXml(text), 'ContentProtection').map((e) => e.attributes.value);
      return { cp, laUrl: text.includes('Laurl') };
    };
    expect(await protection('')).toEqual({ cp: ['cenc', 'Widevine', 'MSPR 2.0', 'ClearKey1.0'], laUrl: true });
    expect(await protection('?device=browser')).toEqual({ cp: ['cenc', 'ClearKey1.0'], laUrl: true });
    expect(await protection('?device=legacy-avc')).toEqual({ cp: ['cenc', 'Widevine'], laUrl: false });
    expect(await protection('?device=tv-hevc')).toEqual({ cp: ['cenc', 'MSPR 2.0'], laUrl: false });
    // HLS: the media playlist's keys follow the profile too.
    const keys = async (query: string) =>
      (await (await fetch(`${url}/live/${enc}/v180/index.m3u8${query}`)).text())
        .split('\n')
        .filter((l) => l.startsWith('#EXT-X-KEY'))
        .map((l) => /KEYFORMAT="([^"]+)"/.exec(l)?.[1]);
    expect(await keys('?device=legacy-avc')).toEqual(['urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed']);
    expect(await keys('?device=browser')).toEqual(['urn:uuid:1077efec-c0b2-4d02-ace3-3c1e52e2fb4b', 'org.w3.clearkey']);
    // A device whose DRM system this packager never signals plays nothing here: 406.
    expect(
      (await operator('PUT', '/api/devices/perso-fairplay', { ...KIOSK_BASE, drm: { system: 'fairplay' } })).status,
    ).toBe(200);
    const none = await fetch(`${url}/live/${enc}/index.m3u8?device=perso-fairplay`);
    expect(none.status).toBe(406);
    expect((await errorOf(none)).code).toBe('NO_PLAYABLE_TRACKS');
    expect((await operator('DELETE', '/api/devices/perso-fairplay')).status).toBe(200);
  });
});

/** A valid profile to vary in tests. */
const KIOSK_BASE = {
  video: { avc: { profile: 'high', level: 5.1 } },
  audio: { aac: { maxChannels: 2 } },
  drm: { system: 'widevine' },
  maxHeight: 1080,
  maxFrameRate: 60,
  maxBitrate: 10_000_000,
  hdr: false,
  captions: ['webvtt', 'imsc1'],
  languages: [],
};

describe('device profile API', () => {
  const KIOSK = {
    description: 'a kiosk: HEVC only, 5.1 E-AC-3',
    video: { hevc: { profile: 'main', level: 4 } },
    audio: { 'ec-3': { maxChannels: 6 } },
    drm: { system: 'widevine' },
    maxHeight: 720,
    maxFrameRate: 30,
    maxBitrate: 5_000_000,
    hdr: false,
    captions: ['imsc1'],
    languages: ['en'],
  };

  it('needs an operator token: 401 without one, 403 for the read-only one on a change', async () => {
    expect((await operator('GET', '/api/devices', undefined, '')).status).toBe(401);
    expect((await operator('PUT', '/api/devices/kiosk', KIOSK, '')).status).toBe(401);
    const list = await operator('GET', '/api/devices', undefined, DEV_OPERATOR_READ_TOKEN);
    expect(list.status).toBe(200);
    const { devices } = (await list.json()) as { devices: { name: string; source: string }[] };
    expect(devices.filter((d) => d.source === 'built-in').map((d) => d.name)).toEqual(
      expect.arrayContaining(['browser', 'legacy-avc', 'tv-hevc']),
    );
    expect((await operator('PUT', '/api/devices/kiosk', KIOSK, DEV_OPERATOR_READ_TOKEN)).status).toBe(403);
    expect((await operator('DELETE', '/api/devices/kiosk', undefined, DEV_OPERATOR_READ_TOKEN)).status).toBe(403);
  });

  it('refuses a bad profile with 400 naming the field, and stores nothing', async () => {
    for (const body of [
      { ...KIOSK, maxHeight: -1 },
      { ...KIOSK, video: {} },
      { ...KIOSK, drm: { system: 'vault' } },
      '{',
    ]) {
      const res = await operator('PUT', '/api/devices/kiosk-bad', body);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).code).toBe('BAD_BODY');
    }
    expect(
      (await errorOf(await operator('PUT', '/api/devices/kiosk-bad', { ...KIOSK, maxHeight: -1 }))).message,
    ).toMatch(/maxHeight/);
    expect((await operator('GET', '/api/devices/kiosk-bad')).status).toBe(404);
    expect((await operator('PUT', '/api/devices/Bad Name', KIOSK)).status).toBe(400);
  });

  it('puts a profile that ?device= then uses, and deletes it', async () => {
    const put = await operator('PUT', '/api/devices/kiosk', KIOSK);
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({
      name: 'kiosk',
      source: 'stored',
      profile: { drm: { schemes: ['cenc', 'cbcs'] } },
    });
    expect(await mpdSets('?device=kiosk')).toEqual([
      ['video', ['h180:hvc1.1.6.L60.90']],
      ['audio', ['aen51:ec-3']],
    ]);
    expect((await operator('DELETE', '/api/devices/kiosk')).status).toBe(200);
    expect((await operator('GET', '/api/devices/kiosk')).status).toBe(404);
    const missing = await operator('DELETE', '/api/devices/kiosk');
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).code).toBe('DEVICE_PROFILE_NOT_FOUND');
    // Now a name nobody configured: the safe default.
    expect((await get('index.mpd?device=kiosk')).headers.get('x-device-profile')).toBe('legacy-avc');
  });

  it('overrides a built-in profile (a new cache entry at once), and deleting the override restores it', async () => {
    const before = (await (await operator('GET', '/api/devices/browser')).json()) as { hash: string };
    expect((await mpdSets('?device=browser')).flatMap(([, r]) => r)).not.toContain('h180:hvc1.1.6.L60.90');
    const withHevc = { ...KIOSK, video: { avc: { profile: 'high', level: 5.2 }, hevc: { profile: 'main', level: 5 } } };
    const put = await operator('PUT', '/api/devices/browser', { ...withHevc, audio: { aac: { maxChannels: 2 } } });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { hash: string }).hash).not.toBe(before.hash);
    expect((await mpdSets('?device=browser')).flatMap(([, r]) => r)).toContain('h180:hvc1.1.6.L60.90');
    const deleted = await operator('DELETE', '/api/devices/browser');
    expect(await deleted.json()).toMatchObject({ deleted: 'browser', now: { source: 'built-in', hash: before.hash } });
    expect((await mpdSets('?device=browser')).flatMap(([, r]) => r)).not.toContain('h180:hvc1.1.6.L60.90');
    expect((await operator('DELETE', '/api/devices/browser')).status).toBe(404);
  });
});
