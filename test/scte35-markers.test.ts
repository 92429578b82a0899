/**
 * SCTE-35 end to end: the synthetic source sends a break every 20 s as splice_insert on its own
 * PID; two redundant bridges (A and B, the same feed) read it and both post it to the splice API
 * of the real `wrangler dev` with their ingest tokens. Nobody else posts splices for this event,
 * so every marker came out of the feed. The break is stored once in both regions (one pipeline
 * added it, the other found it there), and the live playlist and MPD carry it with the feed's
 * splice_event_id, at the UTC second the source scheduled it, with the feed's own section.
 */
import { Parser } from 'm3u8-parser';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fromBase64, parseSpliceSection } from '../contract/scte35-section.ts';
import type { Splice } from '../contract/splices.ts';
import { DEV_OPERATOR_TOKEN } from './ingest-client.ts';
import { type LiveEvent, startLiveEvent, waitFor } from './live-event.ts';

const workerUrl = inject('workerUrl');
const event = `scte35-${Date.now().toString(36)}`;
const PERIOD_MS = 20_000;
let live: LiveEvent;

interface Scte35Status {
  splices: number;
  posted: number;
  added: number;
  failed: number;
}
const status = async (pipeline: string) =>
  ((await (await fetch(`${live.bridges[pipeline]}/status`)).json()) as { scte35: Scte35Status }).scte35;
const operator = { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` };

beforeAll(async () => {
  live = await startLiveEvent({
    workerUrl,
    event,
    pipelines: ['A', 'B'],
    ladder: 'tiny',
    size: '640x360',
    sourceFlags: ['--scte35', String(PERIOD_MS / 1000), '--scte35-duration', '8'],
  });
}, 60_000);

afterAll(async () => {
  await live?.stop();
});

describe('SCTE-35 from the contribution feed', () => {
  it('both pipelines post the same break; it is stored once and reaches the playlist and the MPD', async () => {
    let seen: Record<string, Scte35Status> = {};
    try {
      await waitFor(
        async () => {
          seen = { A: await status('A'), B: await status('B') };
          return seen.A.posted >= 1 && seen.B.posted >= 1;
        },
        60_000,
        'both bridges to post a break',
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(seen)}\n${live.output()}`);
    }
    expect(seen.A.failed + seen.B.failed).toBe(0);

    const stored: Splice[][] = [];
    for (const region of ['r1', 'r2']) {
      const res = await fetch(`${workerUrl}/api/events/${event}/state?region=${region}`, { headers: operator });
      // Without receivedAt: each region's origin received the break at its own moment.
      const splices = ((await res.json()) as { splices: (Splice & { receivedAt: string })[] }).splices;
      stored.push(splices.map(({ receivedAt: _, ...splice }) => splice));
    }
    const [splice] = stored[0];
    expect(stored[1]).toEqual(stored[0]);
    expect(splice).toMatchObject({ source: 'feed', durationMs: 8000, id: splice.outAt / 1000 });
    expect(splice.outAt % PERIOD_MS).toBe(0);
    // Of the posts of this break, exactly one stored it (the other pipeline's found it stored).
    const breaks = stored[0].length;
    const now = { A: await status('A'), B: await status('B') };
    expect(now.A.added + now.B.added).toBe(breaks);
    expect(parseSpliceSection(fromBase64(splice.scte35))).toMatchObject({
      spliceEventId: splice.id,
      outOfNetwork: true,
      ptsTime: (splice.outAt * 90) % 2 ** 33,
      breakDuration: 8 * 90_000,
    });

    // The playlist (once its media reaches the break) and the MPD.
    let playlist = '';
    await waitFor(
      async () => {
        playlist = await (await fetch(`${workerUrl}/live/${event}/v234/index.m3u8`)).text();
        return playlist.includes(`ID="splice-${splice.id}"`);
      },
      20_000,
      'the break in the media playlist',
    );
    const parser = new Parser();
    parser.push(playlist);
    parser.end();
    const range = (
      parser.manifest.dateRanges as { id: string; startDate: Date; plannedDuration: number; scte35Out: string }[]
    ).find((r) => r.id === `splice-${splice.id}`)!;
    expect(range.startDate.getTime()).toBe(splice.outAt);
    expect(range.plannedDuration).toBe(8);
    expect(Buffer.from(range.scte35Out.slice(2), 'hex').toString('base64')).toBe(splice.scte35);

    const mpd = await (await fetch(`${workerUrl}/live/${event}/index.mpd`)).text();
    expect(mpd).toContain(`<Event presentationTime="${splice.outAt}" duration="8000" id="${splice.id}">`);
    expect(mpd).toContain(`<scte35:Binary>${splice.scte35}</scte35:Binary>`);
  }, 120_000);
});
