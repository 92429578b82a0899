/**
 * The control plane's API in the real Worker and its Durable Objects (workerd, in process):
 * every route of the generated OpenAPI document refuses a missing or wrong token, every
 * validation error is a 400 naming the field that changes nothing, and a created event, its
 * operations and its schedule reach every region's origin.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { loadMedia as encodeMedia, liveK, segmentFor, type Media } from '../test/media.ts';
import { DEV_OPERATOR_READ_TOKEN, ingestPut, operatorCall, randomEventId } from '../test/ingest-client.ts';

const url = inject('workerUrl');
const D = 2000;
let video: Media;
beforeAll(async () => {
  video = await encodeMedia({ kind: 'video' });
});

const call = (path: string, init?: Parameters<typeof operatorCall>[2]) => operatorCall(url, path, init);
const error = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

interface OriginState {
  ended: boolean;
  config: {
    pipelines: string[];
    dvrWindowSeconds: number;
    captions: { language: string }[];
    latency?: { partDurationMs?: number };
  };
  masks: { pipeline: string }[];
}
const originState = async (event: string, region: string) => {
  const res = await call(`/api/events/${event}/state?region=${region}`);
  return { status: res.status, body: res.status === 200 ? ((await res.json()) as OriginState) : undefined };
};

interface OpenApiDoc {
  paths: Record<string, Record<string, { security?: unknown[] }>>;
}

describe('the OpenAPI document', () => {
  it('is generated from the schemas and lists every control-plane route', async () => {
    const res = await fetch(`${url}/api/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as OpenApiDoc & { openapi: string };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/events',
        '/api/events/{event}',
        '/api/events/{event}/operations',
        '/api/events/{event}/timeline',
      ]),
    );
    // The request body schema is the zod schema: its enum of operations is there.
    expect(JSON.stringify(doc.paths['/api/events/{event}/operations'])).toContain('restart-pipeline');
  });

  it('every route of it: 401 without a token, 403 with a wrong one, writes refuse the read-only token', async () => {
    const doc = (await (await fetch(`${url}/api/openapi.json`)).json()) as OpenApiDoc;
    const event = randomEventId('walk');
    let checked = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const method of Object.keys(methods)) {
        const concrete = path.replace('{event}', event).replace('{pipeline}', 'A');
        const send = (token: string | null) =>
          call(concrete, {
            method: method.toUpperCase(),
            token,
            body: method === 'get' || method === 'delete' ? undefined : {},
          });
        const none = await send(null);
        expect(none.status, `${method} ${path}`).toBe(401);
        expect(none.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
        expect((await send('not-a-token')).status, `${method} ${path}`).toBe(403);
        const readOnly = await send(DEV_OPERATOR_READ_TOKEN);
        if (method === 'get') expect([401, 403]).not.toContain(readOnly.status);
        else expect(readOnly.status, `${method} ${path} with the read-only token`).toBe(403);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(7);
  });
});

describe('events are created, not implied', () => {
  it('ingest for an event never created is refused and creates no origin object; a player request neither', async () => {
    const event = randomEventId('never');
    const res = await ingestPut(url, `${event}/A/v1/init.mp4`, video.init, { create: false });
    expect(res.status).toBe(404);
    expect((await error(res)).code).toBe('EVENT_NOT_CREATED');
    expect((await fetch(`${url}/live/${event}/index.mpd`)).status).toBe(404);
    expect((await fetch(`${url}/live/${event}/v1/${liveK(D)}.m4s`)).status).toBe(404);
    for (const region of ['r1', 'r2']) expect((await originState(event, region)).status).toBe(404);
  });

  it('create: 201 with its origins configured in every region; the id again is 409; then ingest works', async () => {
    const event = randomEventId('made');
    const created = await call('/api/events', {
      method: 'POST',
      body: {
        id: event,
        title: 'Made',
        dvrWindowSeconds: 600,
        captions: [{ language: 'es', label: 'Español' }],
        partDurationMs: 333,
      },
    });
    expect(created.status).toBe(201);
    const view = (await created.json()) as { phase: string; definition: { pipelines: string[]; ladder: string } };
    expect(view.phase).toBe('created');
    expect(view.definition).toMatchObject({ pipelines: ['A', 'B'], ladder: 'local' });
    for (const region of ['r1', 'r2']) {
      const s = await originState(event, region);
      expect(s.status).toBe(200);
      expect(s.body!.config.dvrWindowSeconds).toBe(600);
      expect(s.body!.config.captions.map((c) => c.language)).toEqual(['es']);
      // Low latency asked for: every region's origin serves parts on the same grid as the bridges cut.
      expect(s.body!.config.latency?.partDurationMs).toBe(333);
    }
    // An operator's latency patch replaces the block but not the bridges' part grid.
    const patched = await call(`/api/events/${event}/config`, {
      method: 'PATCH',
      body: { latency: { targetMs: 4000 } },
    });
    expect(patched.status).toBe(200);
    for (const region of ['r1', 'r2'])
      expect((await originState(event, region)).body!.config.latency?.partDurationMs).toBe(333);
    const again = await call('/api/events', { method: 'POST', body: { id: event } });
    expect(again.status).toBe(409);
    expect((await error(again)).code).toBe('EVENT_EXISTS');
    expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init, { create: false })).status).toBe(201);
    const list = (await (await call('/api/events', { token: DEV_OPERATOR_READ_TOKEN })).json()) as {
      events: { definition: { id: string } }[];
    };
    expect(list.events.map((e) => e.definition.id)).toContain(event);
  });

  it.each([
    [{ id: 'Bad Id' }, 'id'],
    [{ id: 'ok-id', ladder: 'enormous' }, 'ladder'],
    [{ id: 'ok-id', pipelines: ['A', 'A'] }, 'pipelines'],
    [{ id: 'ok-id', surprise: true }, 'surprise'],
    [{ id: 'ok-id', schedule: { start: '2026-12-02T10:00:00Z', end: '2026-12-02T09:00:00Z' } }, 'end'],
    [{ id: 'ok-id', schedule: { start: 'tomorrow' } }, 'start'],
  ])('a bad definition %j is a 400 naming %s, and nothing is created', async (body, field) => {
    const id = randomEventId('bad');
    const res = await call('/api/events', {
      method: 'POST',
      body: { ...body, id: body.id === 'ok-id' ? id : body.id },
    });
    expect(res.status).toBe(400);
    const err = await error(res);
    expect(err.code).toBe('BAD_BODY');
    expect(err.message).toContain(field);
    expect((await call(`/api/events/${id}`)).status).toBe(404);
  });

  it('a body that is not JSON is a 400', async () => {
    const res = await call('/api/events', { method: 'POST', body: '{"id": ' });
    expect(res.status).toBe(400);
  });
});

describe('operations', () => {
  async function created(definition: Record<string, unknown> = {}) {
    const event = randomEventId('op');
    expect((await call('/api/events', { method: 'POST', body: { id: event, ...definition } })).status).toBe(201);
    return event;
  }
  const operate = (event: string, body: unknown, token?: string) =>
    call(`/api/events/${event}/operations`, { method: 'POST', body, token });

  it('prefer, mask, DVR window and end reach every region, and each is in the timeline with who and when', async () => {
    const event = await created();
    const k = liveK(D) - 2;
    for (const p of ['A', 'B']) {
      expect((await ingestPut(url, `${event}/${p}/v1/init.mp4`, video.init)).status).toBe(201);
      expect((await ingestPut(url, `${event}/${p}/v1/${k}.m4s`, segmentFor(video, k, D))).status).toBe(201);
    }
    expect((await operate(event, { op: 'prefer-pipeline', pipeline: 'B' })).status).toBe(200);
    expect((await operate(event, { op: 'mask-pipeline', pipeline: 'A' })).status).toBe(200);
    expect((await operate(event, { op: 'set-dvr-window', dvrWindowSeconds: 900 })).status).toBe(200);
    for (const region of ['r1', 'r2']) {
      const s = (await originState(event, region)).body!;
      expect(s.config.pipelines).toEqual(['B', 'A']);
      expect(s.config.dvrWindowSeconds).toBe(900);
      expect(s.masks.map((m) => m.pipeline)).toEqual(['A']);
    }
    expect((await operate(event, { op: 'unmask-pipeline', pipeline: 'A' })).status).toBe(200);
    expect((await originState(event, 'r2')).body!.masks).toEqual([]);
    const ended = await operate(event, { op: 'end' });
    expect(ended.status).toBe(200);
    expect(((await ended.json()) as { phase: string }).phase).toBe('ended');
    for (const region of ['r1', 'r2']) expect((await originState(event, region)).body!.ended).toBe(true);
    const after = await operate(event, { op: 'start' });
    expect(after.status).toBe(409);

    const timeline = (await (await call(`/api/events/${event}/timeline`)).json()) as {
      entries: { who: string; what: string; at: string }[];
    };
    expect(timeline.entries.map((e) => e.what)).toEqual([
      'created',
      'prefer-pipeline',
      'mask-pipeline',
      'set-dvr-window',
      'unmask-pipeline',
      'end',
    ]);
    expect(timeline.entries.every((e) => e.who === 'operator' && !Number.isNaN(Date.parse(e.at)))).toBe(true);
  });

  it('refuses an unknown op, a pipeline the event lacks, and the read-only token; nothing changes', async () => {
    const event = await created({ pipelines: ['A', 'B'] });
    expect((await operate(event, { op: 'explode' })).status).toBe(400);
    const wrong = await operate(event, { op: 'restart-pipeline', pipeline: 'C' });
    expect(wrong.status).toBe(400);
    expect((await error(wrong)).message).toContain('pipeline');
    expect((await operate(event, { op: 'stop' }, DEV_OPERATOR_READ_TOKEN)).status).toBe(403);
    expect(
      (await call(`/api/events/${randomEventId('nobody')}/operations`, { method: 'POST', body: { op: 'start' } }))
        .status,
    ).toBe(404);
    const timeline = (await (await call(`/api/events/${event}/timeline`)).json()) as { entries: { what: string }[] };
    expect(timeline.entries.map((e) => e.what)).toEqual(['created']);
  });

  it('a running event cannot be deleted; a stopped one can', async () => {
    const event = await created();
    expect((await operate(event, { op: 'start' })).status).toBe(200);
    const refused = await call(`/api/events/${event}`, { method: 'DELETE' });
    expect(refused.status).toBe(409);
    expect((await error(refused)).code).toBe('EVENT_RUNNING');
    expect((await operate(event, { op: 'stop' })).status).toBe(200);
    expect((await call(`/api/events/${event}`, { method: 'DELETE' })).status).toBe(200);
    expect((await call(`/api/events/${event}`)).status).toBe(404);
  });

  it('PATCH changes what may change and refuses the rest', async () => {
    const event = await created();
    const patched = await call(`/api/events/${event}`, {
      method: 'PATCH',
      body: { title: 'Renamed', dvrWindowSeconds: 300 },
    });
    expect(patched.status).toBe(200);
    expect((await originState(event, 'r2')).body!.config.dvrWindowSeconds).toBe(300);
    const fixed = await call(`/api/events/${event}`, { method: 'PATCH', body: { ladder: 'tiny' } });
    expect(fixed.status).toBe(400);
    expect((await error(fixed)).message).toContain('ladder');
  });
});

describe('the schedule', () => {
  it('starts the pipelines at start − lead and ends the event at its end, by itself', async () => {
    const event = randomEventId('sched');
    const now = Date.now();
    const schedule = {
      start: new Date(now + 1500).toISOString(),
      end: new Date(now + 3500).toISOString(),
      leadSeconds: 1,
    };
    const res = await call('/api/events', { method: 'POST', body: { id: event, schedule } });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { phase: string }).phase).toBe('scheduled');
    const phase = async () =>
      (await (await call(`/api/events/${event}`)).json()) as { phase: string; desired: Record<string, string> };
    await expect.poll(async () => (await phase()).phase, { timeout: 5000, interval: 200 }).toBe('starting');
    expect((await phase()).desired).toEqual({ A: 'running', B: 'running' });
    await expect.poll(async () => (await phase()).phase, { timeout: 8000, interval: 200 }).toBe('ended');
    expect((await phase()).desired).toEqual({ A: 'stopped', B: 'stopped' });
    for (const region of ['r1', 'r2']) expect((await originState(event, region)).body!.ended).toBe(true);
    const timeline = (await (await call(`/api/events/${event}/timeline`)).json()) as {
      entries: { who: string; what: string }[];
    };
    expect(timeline.entries.filter((e) => e.who === 'schedule').map((e) => e.what)).toEqual(['start', 'end']);
  });
});
