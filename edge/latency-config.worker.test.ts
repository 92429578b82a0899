/**
 * The event's latency block reaches the manifests (docs/configuration.md, Latency): PATCH config
 * with `latency` changes the MPD's ServiceDescription and the media playlist's HOLD-BACK for the
 * next manifest written, `{}` goes back to the derived defaults, a bad block is 400 and changes
 * nothing.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DEV_OPERATOR_TOKEN, ingestPut, randomEventId } from '../test/ingest-client.ts';
import { loadMedia, liveK, type Media, segmentFor } from '../test/media.ts';

const url = inject('workerUrl');
const D = 2000;
let video: Media;
beforeAll(async () => {
  video = await loadMedia({ kind: 'video' });
});

const patch = (event: string, body: unknown) =>
  fetch(`${url}/api/events/${event}/config`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
/** The manifests as a player gets them (a config change reaches the very next one, as a DVR window change does). */
const mpd = async (event: string) => (await fetch(`${url}/live/${event}/index.mpd`)).text();
const playlist = async (event: string) => (await fetch(`${url}/live/${event}/v1/index.m3u8`)).text();
const latencyOf = (text: string) => /<Latency [^>]*\/>/.exec(text)?.[0];

describe('latency block → manifests', () => {
  it('PATCH config latency changes ServiceDescription, suggestedPresentationDelay and HOLD-BACK; {} restores the defaults', async () => {
    const event = randomEventId();
    const k = liveK(D) - 2;
    expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init)).status).toBe(201);
    expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, segmentFor(video, k, D))).status).toBe(201);

    const before = await mpd(event);
    expect(latencyOf(before)).toBe('<Latency target="3500" min="2750" max="7500"/>');
    expect(before).toContain('suggestedPresentationDelay="PT3.5S"');
    expect(await playlist(event)).toContain('HOLD-BACK=6.0');

    const res = await patch(event, { latency: { targetMs: 10_000, playbackRate: { min: 0.9, max: 1.1 } } });
    expect(res.status).toBe(200);
    const after = await mpd(event);
    expect(latencyOf(after)).toBe('<Latency target="10000" min="2750" max="14000"/>');
    expect(after).toContain('<PlaybackRate min="0.9" max="1.1"/>');
    expect(after).toContain('suggestedPresentationDelay="PT10S"');
    // HOLD-BACK counts from the playlist's end, pipelineDelayMs behind real time: 10 − 1.5.
    expect(await playlist(event)).toContain('HOLD-BACK=8.5');

    const bad = await patch(event, { latency: { targetMs: 3000, minMs: 4000 } });
    expect(bad.status).toBe(400);
    expect(latencyOf(await mpd(event))).toBe('<Latency target="10000" min="2750" max="14000"/>');

    expect((await patch(event, { latency: {} })).status).toBe(200);
    expect(latencyOf(await mpd(event))).toBe('<Latency target="3500" min="2750" max="7500"/>');
  });
});
