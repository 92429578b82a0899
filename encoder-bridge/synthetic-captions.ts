import { parseArgs } from 'node:util';
import type { CaptionsPost, CaptionTrack } from '../contract/captions.ts';
import { mintToken } from '../contract/scoped-token.ts';

/**
 * The synthetic live captioner for the demo and tests: declares English and Spanish captions on
 * the event (operator PATCH of its config, once the event exists) and then, every interval,
 * posts one cue per language through the captions API (ingest token), exactly as a captioning
 * service would. Each cue covers [t, t + interval) on the UTC grid and says the time t, so it
 * matches the clock burnt into the synthetic source's picture at the moment it shows.
 */
export const DEMO_CAPTIONS: CaptionTrack[] = [
  { language: 'en', label: 'English', default: true },
  { language: 'es', label: 'Español', default: false },
];

/** The demo cue text of the cue starting at `startMs`, per language. */
export function demoCueText(language: string, startMs: number): string {
  const hms = new Date(startMs).toISOString().slice(11, 19);
  return language === 'es' ? `Son las ${hms} UTC` : `It is ${hms} UTC`;
}

export function demoPost(language: string, startMs: number, intervalMs: number): CaptionsPost {
  return {
    language,
    cues: [
      {
        start: new Date(startMs).toISOString(),
        end: new Date(startMs + intervalMs).toISOString(),
        text: demoCueText(language, startMs),
      },
    ],
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://localhost:8787' },
      event: { type: 'string', default: 'demo' },
      interval: { type: 'string', default: '2000' },
      /** Languages to post cues for, comma separated (default: all declared). `npm start` posts es: en comes from CC1. */
      post: { type: 'string', default: DEMO_CAPTIONS.map((c) => c.language).join(',') },
    },
  });
  const posting = DEMO_CAPTIONS.filter((c) => values.post.split(',').includes(c.language));
  if (posting.length === 0) {
    console.error(
      `invalid captioner flags:\n  --post: languages among ${DEMO_CAPTIONS.map((c) => c.language).join(', ')}, got "${values.post}"`,
    );
    process.exit(2);
  }
  const base = values.url;
  const event = values.event;
  const intervalMs = Number(values.interval);
  // A captioner holds a captions token of its event; locally one is signed with the dev key.
  const captionsToken =
    process.env.CAPTIONS_TOKEN ??
    (await mintToken(process.env.INGEST_TOKEN_KEY ?? 'dev-ingest-token-key', { scope: 'captions', event }));
  const operatorToken = process.env.OPERATOR_TOKEN ?? 'dev-operator-token';
  const log = (m: string) => console.log(`${new Date().toISOString()} [captions] ${m}`);

  // The event exists in a region once its first init is stored there: keep asking until every
  // region says ok (x-regions-applied), so cues can be stored in all of them.
  for (;;) {
    const res = await fetch(`${base}/api/events/${event}/config`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ captions: DEMO_CAPTIONS }),
    }).catch(() => null);
    const applied = res?.headers.get('x-regions-applied') ?? '';
    if (res?.ok && applied.split(',').every((r) => r.trim().endsWith('=ok'))) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  log(
    `declared ${DEMO_CAPTIONS.map((c) => c.language).join(', ')} captions on event ${event}; posting a ${posting.map((c) => c.language).join(', ')} cue every ${intervalMs} ms`,
  );

  for (;;) {
    const now = Date.now();
    const startMs = Math.floor(now / intervalMs) * intervalMs;
    for (const { language } of posting) {
      const res = await fetch(`${base}/api/events/${event}/captions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${captionsToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(demoPost(language, startMs, intervalMs)),
      }).catch((err: Error) => ({ ok: false, status: 0, text: async () => err.message }));
      if (!res.ok) log(`posting ${language} cue failed: ${res.status} ${await res.text()}`);
    }
    await new Promise((r) => setTimeout(r, startMs + intervalMs - Date.now() + 50));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
