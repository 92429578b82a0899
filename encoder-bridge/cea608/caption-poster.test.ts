/**
 * The CC1 caption poster against a real HTTP server that answers like the origin's captions API:
 * the whole request is refused (400 BAD_BODY) when any cue's segment is already final
 * (due + 10 s, origin/event-origin.ts putCues), 201/200 with `added` otherwise. After an outage
 * the poster must not lose fresh cues with stale ones.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CaptionsPost } from '../../contract/captions.ts';
import { expectedPublishMs } from '../../contract/epoch.ts';
import { CAPTION_SETTLE_MS, CaptionPoster } from './caption-poster.ts';
import type { DecodedCue } from './cc1-decoder.ts';

interface FakeOrigin {
  url: string;
  /** Cue starts (ms) of each request, in order. */
  requests: number[][];
  stored: Set<string>;
  /** Every request, answered or refused. */
  hits: () => number;
  server: Server;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** The origin's captions API, as far as the poster sees it. `pipelineDelayMs` is the event's. */
async function fakeOrigin(opts: {
  segmentDurationMs: number;
  pipelineDelayMs: number;
  answer?: (n: number) => 'origin' | 'non-json' | 503 | 'hang';
}): Promise<FakeOrigin> {
  let hits = 0;
  const origin: Omit<FakeOrigin, 'url' | 'server'> = { requests: [], stored: new Set(), hits: () => hits };
  const server = createServer((req, res) => {
    hits++;
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const mode = opts.answer?.(origin.requests.length) ?? 'origin';
      const reply = (status: number, json: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      if (req.method !== 'POST' || req.url !== '/api/events/demo/captions') return reply(404, { error: 'NOT_FOUND' });
      if (req.headers.authorization !== 'Bearer t') return reply(401, { error: 'UNAUTHORIZED' });
      const parsed = CaptionsPost.safeParse(JSON.parse(body));
      if (!parsed.success) return reply(400, { error: 'BAD_BODY', message: parsed.error.message });
      const cues = parsed.data.cues.map((c) => ({
        startMs: Date.parse(c.start),
        endMs: Date.parse(c.end),
        text: c.text,
      }));
      origin.requests.push(cues.map((c) => c.startMs));
      if (mode === 'hang') return; // never answered
      if (mode === 503) return reply(503, { error: 'UNAVAILABLE' });
      if (parsed.data.language !== 'en')
        return reply(400, { error: 'BAD_BODY', message: `language ${parsed.data.language} is not a caption track` });
      const D = opts.segmentDurationMs;
      const now = Date.now();
      for (const [i, c] of cues.entries()) {
        const settled = expectedPublishMs(Math.floor(c.startMs / D), D, opts.pipelineDelayMs) + CAPTION_SETTLE_MS;
        if (settled < now)
          return reply(400, {
            error: 'BAD_BODY',
            message: `cue ${i + 1} is too late: its segment was final at ${new Date(settled).toISOString()}`,
          });
      }
      let added = 0;
      for (const c of cues) {
        const key = `${c.startMs}|${c.endMs}|${c.text}`;
        if (!origin.stored.has(key)) added++;
        origin.stored.add(key);
      }
      if (mode === 'non-json') return res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
      reply(added > 0 ? 201 : 200, { track: 'text-en', received: cues.length, added });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { ...origin, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function poster(url: string, opts: { segmentDurationMs?: number; pipelineDelayMs?: number; token?: string } = {}) {
  const log: string[] = [];
  const p = new CaptionPoster({
    url,
    token: opts.token ?? 't',
    event: 'demo',
    language: 'en',
    segmentDurationMs: opts.segmentDurationMs ?? 2000,
    pipelineDelayMs: opts.pipelineDelayMs ?? 1500,
    log: (m) => log.push(m),
  });
  return { p, log };
}

/** A 1 s cue starting at `startMs`. */
const cue = (startMs: number, text = `at ${startMs}`): DecodedCue => ({ startMs, endMs: startMs + 1000, text });
/** Fresh cues: in the segment now being captioned. */
const fresh = (n: number) =>
  Array.from({ length: n }, (_, i) => cue(Math.floor(Date.now() / 1000) * 1000 - 3000 + i * 1000));

describe('CC1 caption poster', () => {
  it('does not send a cue whose segment is already final: counts it late, posts the fresh ones', async () => {
    // An outage (503) while the first cue is posted: the stale and fresh cues queue up behind it
    // and go together, as after a real outage.
    const origin = await fakeOrigin({
      segmentDurationMs: 2000,
      pipelineDelayMs: 1500,
      answer: (n) => (n === 0 ? 503 : 'origin'),
    });
    const { p } = poster(origin.url);
    const [first, ...rest] = fresh(4);
    p.post(first);
    const stale = cue(Date.now() - 60_000, 'stale');
    for (const c of [stale, ...rest]) p.post(c);
    await p.idle();
    expect(p.counters).toMatchObject({ posted: 4, added: 4, failed: 1, late: 1, dropped: 0 });
    expect(origin.stored.size).toBe(4);
    expect(origin.requests).toEqual([[first.startMs], [first.startMs], rest.map((c) => c.startMs)]);
    expect(origin.requests.flat()).not.toContain(stale.startMs);
  });

  it('after a 400 for one cue of a batch, posts the cues one by one so the good ones land', async () => {
    // The origin's event has pipelineDelayMs 0, the bridge was told 5000 (or its clock is behind):
    // a cue the bridge still believes in is refused, and with it the whole request.
    const D = 2000;
    // The first request meets an outage (503): the cues decoded meanwhile wait and go as one batch.
    const origin = await fakeOrigin({
      segmentDurationMs: D,
      pipelineDelayMs: 0,
      answer: (n) => (n === 0 ? 503 : 'origin'),
    });
    const { p } = poster(origin.url, { segmentDurationMs: D, pipelineDelayMs: 5000 });
    const [first, ...good] = fresh(4);
    p.post(first);
    const segmentEnd = Math.floor((Date.now() - 12_000) / D) * D; // final at the origin 2-4 s ago, not yet for the bridge
    const refused = cue(segmentEnd - 1500, 'refused');
    for (const c of [refused, ...good]) p.post(c);
    await p.idle();
    expect(p.counters).toMatchObject({ posted: 4, added: 4, failed: 1, late: 1, dropped: 0 });
    expect(p.counters.lastError).toMatch(/^400 .*too late/);
    expect([...origin.stored].sort()).toEqual([first, ...good].map((c) => `${c.startMs}|${c.endMs}|${c.text}`).sort());
    // The first cue twice (503, then stored); the batch, refused; then each cue on its own.
    expect(origin.requests).toEqual([
      [first.startMs],
      [first.startMs],
      [refused.startMs, ...good.map((c) => c.startMs)],
      [refused.startMs],
      ...good.map((c) => [c.startMs]),
    ]);
  });

  it('a refusal of the request itself (401) is not retried cue by cue', async () => {
    const origin = await fakeOrigin({ segmentDurationMs: 2000, pipelineDelayMs: 1500 });
    const { p, log } = poster(origin.url, { token: 'wrong' });
    for (const c of fresh(4)) p.post(c);
    await p.idle();
    expect(p.counters).toMatchObject({ posted: 0, failed: 4, late: 0 });
    expect(p.counters.lastError).toMatch(/^401 /);
    // The first cue alone, then the three that waited behind it as one batch: no cue-by-cue retry.
    expect(origin.hits()).toBe(2);
    expect(log).toHaveLength(1); // one line per 10 s at most
  });

  it('a 2xx whose body is not JSON is a success, not a retry', async () => {
    const origin = await fakeOrigin({ segmentDurationMs: 2000, pipelineDelayMs: 1500, answer: () => 'non-json' });
    const { p } = poster(origin.url);
    for (const c of fresh(2)) p.post(c);
    await p.idle();
    expect(p.counters).toMatchObject({ posted: 2, added: 0, failed: 0 });
    // Each cue sent once (the first goes at once, the second after it): no retry.
    expect(origin.requests.flat()).toHaveLength(2);
  });

  it("retries 5xx for each cue until its own segment is final, not the first cue's", async () => {
    // D = 500 ms so that a cue's deadline can fall inside the retries (backoff 0.5, 1, 2 s).
    const D = 500;
    const origin = await fakeOrigin({
      segmentDurationMs: D,
      pipelineDelayMs: 1500,
      answer: (n) => (n < 3 ? 503 : 'origin'),
    });
    const { p } = poster(origin.url, { segmentDurationMs: D, pipelineDelayMs: 1500 });
    // Due + 10 s within the next 0.1-0.6 s: gone by the third retry.
    const nearStart = Math.ceil((Date.now() - 11_500 + 100) / D) * D - D;
    const near = { startMs: nearStart, endMs: nearStart + 400, text: 'near' };
    expect(p.deadline(near) - Date.now()).toBeGreaterThan(0);
    expect(p.deadline(near) - Date.now()).toBeLessThan(700);
    const later = cue(Math.floor(Date.now() / D) * D, 'later');
    p.post(near);
    p.post(later);
    await p.idle();
    expect(p.counters).toMatchObject({ posted: 1, failed: 1, late: 1 });
    expect(origin.stored).toEqual(new Set([`${later.startMs}|${later.endMs}|later`]));
    expect(origin.requests.at(-1)).toEqual([later.startMs]);
  });

  it('on shutdown, drains briefly and counts what is left as dropped', async () => {
    const origin = await fakeOrigin({ segmentDurationMs: 2000, pipelineDelayMs: 1500, answer: () => 'hang' });
    const { p } = poster(origin.url);
    for (const c of fresh(3)) p.post(c);
    const t0 = Date.now();
    expect(await p.close(300)).toBe(3);
    expect(Date.now() - t0).toBeLessThan(1000);
    p.post(fresh(1)[0]);
    expect(p.counters).toMatchObject({ posted: 0, failed: 0, dropped: 4 });
  });
});
