import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fromBase64, parseSpliceSection } from '../../contract/scte35-section.ts';
import { SplicePost } from '../../contract/splices.ts';
import { breakSchedule, Scte35Flags } from './source-breaks.ts';
import { DEMO_BREAKS, scheduledSplice } from './ts-scte35-inserter.ts';
import { SplicePoster } from './splice-poster.ts';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A splice API that answers `statuses` in turn (then 200) and records what it was sent. */
async function api(statuses: number[]): Promise<{ url: string; bodies: unknown[]; auth: string[] }> {
  const bodies: unknown[] = [];
  const auth: string[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      bodies.push(JSON.parse(body));
      auth.push(`${req.method} ${req.url} ${req.headers.authorization}`);
      res.writeHead(statuses.shift() ?? 200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, auth };
}

const outAt = Math.ceil(Date.now() / 300_000) * 300_000;
const feedSplice = {
  id: outAt / 1000,
  outAt,
  durationMs: 30_000,
  section: scheduledSplice(outAt, DEMO_BREAKS).section,
};

describe('SplicePoster', () => {
  it('posts each break once, with the ingest token, as a body the splice API accepts', async () => {
    const { url, bodies, auth } = await api([201]);
    const poster = new SplicePoster({ url, token: 'cs1.x.y', event: 'demo', log: () => {} });
    poster.post(feedSplice);
    poster.post(feedSplice); // the same break announced again
    await poster.idle();
    expect(bodies).toHaveLength(1);
    expect(auth).toEqual(['POST /api/events/demo/splices Bearer cs1.x.y']);
    const body = SplicePost.parse(bodies[0]);
    expect(body).toMatchObject({ at: new Date(outAt).toISOString(), durationSeconds: 30, id: outAt / 1000 });
    expect(parseSpliceSection(fromBase64(body.scte35!))).toMatchObject({ spliceEventId: outAt / 1000 });
    expect(poster.counters).toMatchObject({ posted: 1, added: 1, failed: 0 });
  });

  it("retries a 503, counts the other pipeline's 200 as posted but not added, and gives up on a 400", async () => {
    const { url, bodies } = await api([503, 200, 400]);
    const poster = new SplicePoster({ url, token: 't', event: 'demo', log: () => {}, retryMs: 10 });
    poster.post(feedSplice);
    await poster.idle();
    expect(bodies).toHaveLength(2);
    expect(poster.counters).toMatchObject({ posted: 1, added: 0, failed: 0 });
    poster.post({ ...feedSplice, id: feedSplice.id + 1 });
    await poster.idle();
    expect(poster.counters).toMatchObject({ posted: 1, failed: 1, lastError: '400 {}' });
  });
});

describe('the source flags', () => {
  it('default to a 30 s break every 300 s; 0 turns them off; nonsense is refused', () => {
    expect(breakSchedule(Scte35Flags.parse({ scte35: '300', 'scte35-duration': '30' }))).toEqual(DEMO_BREAKS);
    expect(breakSchedule(Scte35Flags.parse({ scte35: '0', 'scte35-duration': '30' }))).toBeUndefined();
    for (const bad of [{ scte35: '5' }, { scte35: 'often' }, { scte35: '60', 'scte35-duration': '60' }])
      expect(Scte35Flags.safeParse({ 'scte35-duration': '30', ...bad }).success, JSON.stringify(bad)).toBe(false);
  });
});
