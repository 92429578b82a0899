/**
 * The hub's spokes, alerts and metrics in the real Worker and its Durable Objects (workerd, in
 * process): a bridge's WebSocket and its reports, thumbnails, the move to live, a Control Room
 * session's snapshots, an alert SET and CLEARED with its webhook deliveries, region polls with the
 * candidates served by pipeline, the edge's counters and GET /metrics.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { BridgeReport, EventStatus, WatchMessage } from '../contract/control-state.ts';
import { DEV_OPERATOR_READ_TOKEN, operatorCall, devToken, ingestPut, randomEventId } from '../test/ingest-client.ts';
import { loadMedia, liveK, type Media, segmentFor } from '../test/media.ts';

const url = inject('workerUrl');
const D = 2000;
let video: Media;
beforeAll(async () => {
  video = await loadMedia({ kind: 'video' });
});

const call = (path: string, init?: Parameters<typeof operatorCall>[2]) => operatorCall(url, path, init);
const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

async function createEvent(definition: Record<string, unknown> = {}): Promise<string> {
  const event = randomEventId('hub');
  expect((await call('/api/events', { method: 'POST', body: { id: event, ...definition } })).status).toBe(201);
  return event;
}

async function statusOf(event: string): Promise<EventStatus & { phase: string }> {
  const res = await call(`/api/events/${event}`, { token: DEV_OPERATOR_READ_TOKEN });
  expect(res.status).toBe(200);
  return ((await res.json()) as { status: EventStatus & { phase: string } }).status;
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A client WebSocket through the Worker, with every message and the close kept. */
async function connect(path: string, headers: Record<string, string>) {
  const res = await fetch(`${url}${path}`, { headers: { upgrade: 'websocket', ...headers } });
  expect(res.status, await (res.status === 101 ? Promise.resolve('') : res.clone().text())).toBe(101);
  const ws = res.webSocket!;
  const messages: (string | ArrayBuffer)[] = [];
  let closed: { code: number; reason: string } | undefined;
  ws.addEventListener('message', (m) => {
    messages.push(m.data as string | ArrayBuffer);
  });
  ws.addEventListener('close', (e) => {
    closed = { code: e.code, reason: e.reason };
  });
  ws.accept();
  return { ws, messages, closed: () => closed };
}

function report(event: string, pipeline: string, over: Partial<BridgeReport> = {}): BridgeReport {
  return {
    kind: 'bridge',
    event,
    pipeline,
    at: Date.now(),
    state: 'encoding',
    inputPresent: true,
    input: 'http',
    frameRate: 30,
    lastK: liveK(D),
    latenessMs: 250,
    segmentsPublished: 10,
    segmentsFailed: 0,
    ffmpegRestarts: 0,
    bitrateKbps: { v1: 900, a1: 96 },
    paths: null,
    ...over,
  };
}

const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 0xff, 0xd9]);

describe('GET /api/hub/spoke (bridges)', () => {
  it('refuses no token, a wrong one, a captions token, an event never created, and a plain GET', async () => {
    const event = await createEvent();
    const ingest = await devToken('ingest', event, 'A');
    const spoke = (headers: Record<string, string>, query = '') =>
      fetch(`${url}/api/hub/spoke${query}`, { headers: { upgrade: 'websocket', ...headers } });
    expect((await spoke({})).status).toBe(401);
    expect((await spoke({ authorization: 'Bearer nope' })).status).toBe(403);
    expect((await spoke({ authorization: `Bearer ${await devToken('captions', event)}` })).status).toBe(403);
    const never = await spoke({ authorization: `Bearer ${await devToken('ingest', randomEventId('never'), 'A')}` });
    expect(never.status).toBe(404);
    expect(await errorCode(never)).toBe('EVENT_NOT_CREATED');
    const noPipeline = await spoke({ authorization: `Bearer ${await devToken('ingest', event, 'C')}` });
    expect(noPipeline.status).toBe(403);
    const plain = await fetch(`${url}/api/hub/spoke`, { headers: { authorization: `Bearer ${ingest}` } });
    expect(plain.status).toBe(426);
    expect(await errorCode(plain)).toBe('WEBSOCKET_REQUIRED');
    // The pipeline in the query must agree with the token's.
    expect((await spoke({ authorization: `Bearer ${ingest}` }, '?pipeline=B')).status).toBe(403);
  });

  it('reports and a thumbnail show in the status; the first encoding report with a K makes a starting event live', async () => {
    const event = await createEvent();
    expect((await call(`/api/events/${event}/operations`, { method: 'POST', body: { op: 'start' } })).status).toBe(200);
    expect((await statusOf(event)).phase).toBe('starting');

    const a = await connect('/api/hub/spoke', { authorization: `Bearer ${await devToken('ingest', event, 'A')}` });
    // A client that cannot send headers: the token in the query.
    const b = await connect(`/api/hub/spoke?token=${encodeURIComponent(await devToken('ingest', event, 'B'))}`, {});
    b.ws.send(JSON.stringify(report(event, 'B', { state: 'idle', lastK: null, inputPresent: false })));
    a.ws.send(JSON.stringify(report(event, 'A')));
    a.ws.send(JPEG);

    const s = await until('both reports', async () => {
      const s = await statusOf(event);
      return s.pipelines.every((p) => p.bridge) && s.pipelines[0].thumbnailAt ? s : undefined;
    });
    expect(s.phase).toBe('live');
    const [A, B] = s.pipelines;
    expect(A).toMatchObject({ pipeline: 'A', desired: 'running', connected: true });
    expect(A.bridge).toMatchObject({ state: 'encoding', bitrateKbps: { v1: 900 } });
    expect(B.bridge).toMatchObject({ state: 'idle', inputPresent: false });
    expect(s.timeline.map((e) => e.what)).toContain('live');

    const thumb = await call(`/api/events/${event}/pipelines/A/thumbnail.jpg`, { token: DEV_OPERATOR_READ_TOKEN });
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/jpeg');
    expect(new Uint8Array(await thumb.arrayBuffer())).toEqual(JPEG);
    const none = await call(`/api/events/${event}/pipelines/B/thumbnail.jpg`);
    expect(none.status).toBe(404);
    expect(await errorCode(none)).toBe('THUMBNAIL_NOT_FOUND');
    expect((await call(`/api/events/${event}/pipelines/A/thumbnail.jpg`, { token: null })).status).toBe(401);

    a.ws.close(1000, 'done');
    await until('A disconnected', async () => !(await statusOf(event)).pipelines[0].connected);
    b.ws.close(1000, 'done');
  });

  it('closes a socket that sends what is not a BridgeReport of its own pipeline, or a binary that is not a JPEG', async () => {
    const event = await createEvent();
    const token = `Bearer ${await devToken('ingest', event, 'A')}`;
    const cases: [string | Uint8Array, number, string][] = [
      ['not json', 1007, 'BridgeReport JSON'],
      [JSON.stringify({ ...report(event, 'A'), state: 'dancing' }), 1008, 'state'],
      [JSON.stringify(report(event, 'B')), 1008, `not ${event}/B`],
      [new Uint8Array([1, 2, 3, 4]), 1003, 'JPEG'],
    ];
    for (const [message, code, reason] of cases) {
      const c = await connect('/api/hub/spoke', { authorization: token });
      c.ws.send(message);
      const closed = await until('the close', async () => c.closed());
      expect(closed.code).toBe(code);
      expect(closed.reason).toContain(reason);
    }
    expect((await statusOf(event)).pipelines[0].bridge).toBeNull();
  });

  it('answers ping with pong', async () => {
    const event = await createEvent();
    const c = await connect('/api/hub/spoke', { authorization: `Bearer ${await devToken('ingest', event, 'A')}` });
    c.ws.send('ping');
    expect(await until('pong', async () => c.messages.includes('pong'))).toBe(true);
    c.ws.close(1000, 'done');
  });
});

describe('alerts', () => {
  it('input lost: SET then CLEARED, in the history, the timeline, Control Room sessions and both webhooks', async () => {
    // The hub's fetch is this isolate's fetch (test/worker-setup.ts): a webhook URL it can see.
    const received: { url: string; body: { type: string; alert: { rule: string; state: string; subject: string } } }[] =
      [];
    const previousFetch = globalThis.fetch;
    globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      const target = input instanceof Request ? input.url : String(input);
      if (!target.startsWith('http://webhook.test/')) return previousFetch(input, init);
      received.push({ url: target, body: JSON.parse(String(init?.body)) });
      return new Response(null, { status: target.endsWith('/fails') ? 500 : 204 });
    };
    try {
      const urls = ['http://webhook.test/one', 'http://webhook.test/fails'];
      const put = await call('/api/alerts/webhooks', { method: 'PUT', body: { urls } });
      expect(put.status).toBe(200);
      expect(((await put.json()) as { urls: string[] }).urls).toEqual(urls);

      // One pipeline: with A and B, B left stopped would raise redundancy-lost beside input-lost.
      const event = await createEvent({ pipelines: ['A'] });
      const watch = await connect('/api/hub/watch', { authorization: `Bearer ${DEV_OPERATOR_READ_TOKEN}` });
      const first = await until('the first snapshot', async () => watch.messages[0]);
      const snapshot = JSON.parse(String(first)) as WatchMessage;
      expect(snapshot.type).toBe('snapshot');
      if (snapshot.type === 'snapshot') expect(snapshot.events.map((e) => e.definition.id)).toContain(event);

      expect(
        (
          await call(`/api/events/${event}/operations`, {
            method: 'POST',
            body: { op: 'start-pipeline', pipeline: 'A' },
          })
        ).status,
      ).toBe(200);
      const a = await connect('/api/hub/spoke', { authorization: `Bearer ${await devToken('ingest', event, 'A')}` });
      a.ws.send(JSON.stringify(report(event, 'A', { inputPresent: false })));

      const set = await until('the alert SET', async () => {
        const res = await call(`/api/alerts?event=${event}&state=SET`, { token: DEV_OPERATOR_READ_TOKEN });
        const alerts = ((await res.json()) as { alerts: { rule: string; subject: string; runbook: string }[] }).alerts;
        return alerts.length > 0 ? alerts : undefined;
      });
      expect(set).toMatchObject([{ rule: 'input-lost', subject: 'A', state: 'SET' }]);
      expect(set[0].runbook.length).toBeGreaterThan(20);

      a.ws.send(JSON.stringify(report(event, 'A', { inputPresent: true })));
      await until('the alert CLEARED', async () => {
        const res = await call(`/api/alerts?event=${event}`);
        const alerts = ((await res.json()) as { alerts: { state: string; clearedAt: string | null }[] }).alerts;
        return alerts.length === 1 && alerts[0].state === 'CLEARED' && alerts[0].clearedAt !== null;
      });

      const mine = () => received.filter((r) => r.body.alert.subject === 'A' && r.body.type === 'alert');
      await until('four webhook POSTs', async () => mine().length === 4);
      expect(
        mine()
          .map((r) => `${r.url.split('/').pop()} ${r.body.alert.state}`)
          .sort(),
      ).toEqual(['fails CLEARED', 'fails SET', 'one CLEARED', 'one SET']);
      const hooks = (await (await call('/api/alerts/webhooks', { token: DEV_OPERATOR_READ_TOKEN })).json()) as {
        delivered: number;
        failed: number;
      };
      expect(hooks.delivered).toBeGreaterThanOrEqual(2);
      expect(hooks.failed).toBeGreaterThanOrEqual(2);

      const watched = watch.messages.map((m) => JSON.parse(String(m)) as WatchMessage);
      const alertStates = watched.flatMap((m) =>
        m.type === 'alert' && m.alert.event === event ? [m.alert.state] : [],
      );
      expect(alertStates).toEqual(['SET', 'CLEARED']);
      expect(watched.filter((m) => m.type === 'snapshot').length).toBeGreaterThan(1);

      const status = await statusOf(event);
      expect(status.alerts).toMatchObject([{ rule: 'input-lost', state: 'CLEARED' }]);
      const timeline = status.timeline.filter((e) => e.what === 'alert');
      expect(timeline.map((e) => [e.who, (e.detail as { state: string }).state])).toEqual([
        ['alert', 'SET'],
        ['alert', 'CLEARED'],
      ]);
      a.ws.close(1000, 'done');
      watch.ws.close(1000, 'done');
    } finally {
      globalThis.fetch = previousFetch;
      await call('/api/alerts/webhooks', { method: 'PUT', body: { urls: [] } });
    }
  });

  it('webhooks: http(s) URLs only, at most 8, the read-write token', async () => {
    const put = (body: unknown, token?: string) => call('/api/alerts/webhooks', { method: 'PUT', body, token });
    expect((await put({ urls: ['ftp://example.com/x'] })).status).toBe(400);
    expect((await put({ urls: ['not a url'] })).status).toBe(400);
    expect((await put({ urls: Array.from({ length: 9 }, (_, i) => `https://example.com/${i}`) })).status).toBe(400);
    expect((await put({ urls: [] }, DEV_OPERATOR_READ_TOKEN)).status).toBe(403);
    expect((await put({ urls: [], more: 1 })).status).toBe(400);
    expect((await call('/api/alerts?state=MAYBE')).status).toBe(400);
  });
});

describe('polls, the edge and /metrics', () => {
  it('regions are polled while the event runs: candidates served by pipeline; edge counters; all in /metrics', async () => {
    const event = await createEvent();
    const k = liveK(D) - 2;
    expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init)).status).toBe(201);
    expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, segmentFor(video, k, D))).status).toBe(201);
    expect((await call(`/api/events/${event}/operations`, { method: 'POST', body: { op: 'start' } })).status).toBe(200);
    // A player: the first answer of an event is reported to the hub at once (then every 5 s).
    expect((await fetch(`${url}/live/${event}/v1/${k}.m4s`)).status).toBe(200);

    const s = await until('a poll that saw the served segment', async () => {
      const s = await statusOf(event);
      const r1 = s.regions.find((r) => r.region === 'r1');
      return r1?.reachable && r1.servedByPipeline.A === 1 && s.edge.requestsPerSecond > 0 ? s : undefined;
    });
    const r1 = s.regions.find((r) => r.region === 'r1')!;
    expect(r1.activeCandidate).toBe('A');
    expect(r1.pipelines.find((p) => p.pipeline === 'A')).toMatchObject({ lastK: k, segments: 1 });
    expect(r1.storage!.bytes).toBeGreaterThan(0);
    expect(s.regions.find((r) => r.region === 'r2')!.reachable).toBe(true);
    expect(s.series.at.length).toBeGreaterThan(0);
    expect(s.series.requestsPerSecond.length).toBe(s.series.at.length);

    const metrics = await call('/metrics', { token: DEV_OPERATOR_READ_TOKEN });
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await metrics.text();
    expect(text).toContain(`live_event_phase{event="${event}",phase="starting"} 1`);
    expect(text).toContain(`live_region_served_segments_total{event="${event}",region="r1",pipeline="A"} 1`);
    expect(text).toContain(`live_region_pipeline_last_k{event="${event}",region="r1",pipeline="A"} ${k}`);
    expect(text).toContain(`live_edge_requests_total{event="${event}"} 1`);
    expect(text).toMatch(/^# TYPE live_alert_webhook_deliveries_total counter$/m);
    expect((await call('/metrics', { token: null })).status).toBe(401);

    expect((await call(`/api/events/${event}/operations`, { method: 'POST', body: { op: 'end' } })).status).toBe(200);
  });
});
