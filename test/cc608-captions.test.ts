/**
 * CEA-608 end to end: the synthetic source with `--cc608 on` carries "It is HH:MM:SS UTC" on CC1
 * in its H.264; two redundant bridges (A and B, same feed, `--cc1-language en`) extract it and
 * both post the cues to the captions API of the real `wrangler dev`. Nobody else posts captions
 * for this event, so every cue in its text track came out of the video. The player-facing WebVTT
 * segment covering UTC t must hold exactly one cue naming t, over [t, t + 2 s): the cue is on the
 * clock burnt into the picture, and the two bridges' identical cues are stored once.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { demoCueText } from '../encoder-bridge/synthetic-captions.ts';
import { DEV_OPERATOR_TOKEN } from './ingest-client.ts';
import { startLiveEvent, waitFor, type LiveEvent } from './live-event.ts';

const workerUrl = inject('workerUrl');
const event = `cc608-${Date.now().toString(36)}`;
const D = 2000;
let live: LiveEvent;

interface CcStatus {
  cc1Captions: {
    extracted: number;
    posted: number;
    added: number;
    failed: number;
    lastCue?: { startMs: number; endMs: number; text: string };
  } | null;
}
const ccStatus = async (pipeline: string) =>
  ((await (await fetch(`${live.bridges[pipeline]}/status`)).json()) as CcStatus).cc1Captions!;

beforeAll(async () => {
  live = await startLiveEvent({
    workerUrl,
    event,
    pipelines: ['A', 'B'],
    ladder: 'tiny',
    size: '640x360',
    sourceFlags: ['--cc608', 'on'],
    bridgeFlags: ['--cc1-language', 'en'],
  });
  // The event exists once its first init is stored in every region; then English can be declared.
  try {
    await waitFor(
      async () => {
        const res = await fetch(`${workerUrl}/api/events/${event}/config`, {
          method: 'PATCH',
          headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ captions: [{ language: 'en', label: 'English (CC1)', default: true }] }),
        });
        return res.ok && (res.headers.get('x-regions-applied') ?? '').split(',').every((r) => r.trim().endsWith('=ok'));
      },
      45_000,
      'the event to exist so English captions can be declared',
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- bridge and source output ---\n${live.output()}`);
  }
}, 90_000);

afterAll(async () => {
  await live?.stop();
});

/** The cues of a WebVTT segment, times relative to K·D as the origin writes them. */
function vttCues(vtt: string): { from: string; to: string; text: string }[] {
  return vtt.split(/\n\n+/).flatMap((block) => {
    const m = /^(\S+) --> (\S+)\n([\s\S]*)$/.exec(block.trim());
    return m ? [{ from: m[1], to: m[2], text: m[3] }] : [];
  });
}

describe('CEA-608 captions from the contribution feed', () => {
  it('become the WebVTT cues of the segment covering the UTC time they name, once', async () => {
    // Three cues each from both bridges after English was declared.
    let posted: { A: number; B: number } = { A: 0, B: 0 };
    await waitFor(
      async () => {
        posted = { A: (await ccStatus('A')).posted, B: (await ccStatus('B')).posted };
        return posted.A >= 3 && posted.B >= 3;
      },
      30_000,
      'both bridges to post CC1 cues',
    ).catch((err: Error) => {
      throw new Error(`${err.message} (posted ${JSON.stringify(posted)})\n${live.output()}`);
    });
    const a = await ccStatus('A');
    const b = await ccStatus('B');
    expect(a.lastCue!.text).toBe(demoCueText('en', a.lastCue!.startMs));
    const lastK = Math.floor(a.lastCue!.startMs / D);

    for (const k of [lastK - 2, lastK - 1, lastK]) {
      const t = k * D;
      let cues: ReturnType<typeof vttCues> = [];
      await waitFor(
        async () => {
          const res = await fetch(`${workerUrl}/live/${event}/text-en/${k}.vtt`);
          cues = res.ok ? vttCues(await res.text()) : [];
          return cues.length > 0;
        },
        15_000,
        `segment ${k} to hold a cue`,
      );
      expect(cues, `segment ${k}`).toEqual([{ from: '00:00:00.000', to: '00:00:02.000', text: demoCueText('en', t) }]);
    }
    // Both bridges posted the same cues, and some posts added nothing: the other bridge's
    // identical cue was already stored (the single cue per segment above is the visible proof).
    expect(a.added + b.added).toBeLessThan(a.posted + b.posted);
  }, 90_000);
});
