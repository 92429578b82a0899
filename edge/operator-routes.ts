import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { AppError } from '../contract/errors.ts';
import { EventConfigPatch } from '../contract/event-config.ts';
import { EventId } from '../contract/ids.ts';
import { EndRequest, MaskRequest, NextRequest, type Mask } from '../contract/operator.ts';
import type { EventStateView } from '../origin/event-origin.ts';
import { unwrap } from '../origin/result.ts';
import { requireBearer } from './bearer-auth.ts';
import type { Env } from './env.ts';
import { rememberedEventState } from './event-state-memory.ts';
import { pathPart } from './ingest-path.ts';
import { readJson } from './json-body.ts';
import { applyEverywhere } from './every-region.ts';
import { originFor, requireKnownRegion } from './origin-stub.ts';

/**
 * Operator APIs (Authorization: Bearer $OPERATOR_TOKEN; docs/operations.md, "Operator controls").
 * Each change is applied by the event's origin object in every region before the answer is sent,
 * so the very next player request sees it wherever it lands. Bodies are validated first: a
 * rejected request changes nothing.
 */
export const operatorRoutes = new Hono<{ Bindings: Env }>();

operatorRoutes.use('*', async (c, next) => {
  await requireBearer(c.req.header('authorization'), c.env.OPERATOR_TOKEN, 'operator');
  await next();
});

type Ctx = Context<{ Bindings: Env }>;
const NO_STORE = { 'cache-control': 'no-store' };
const eventOf = (c: Ctx) => pathPart(EventId, c.req.param('event'), 'event');
/** The event's origin in `?region=` (default: this Worker's region), for the read-only views. */
const origin = (c: Ctx) => {
  const region = c.req.query('region');
  return originFor(c.env, eventOf(c), region === undefined ? undefined : requireKnownRegion(c.env, region));
};

/** Storage footprint of one event's origin in one region (`?region=`, default this one): candidates, chunk rows, bytes, K range. */
operatorRoutes.get('/events/:event/storage', async (c) => c.json(await origin(c).storageStats(), 200, NO_STORE));

/** The origin's state of the event (`?region=`, default this one) plus the newest x-event-state this edge isolate has seen. */
operatorRoutes.get('/events/:event/state', async (c) => {
  const event = eventOf(c);
  const state = unwrap(await origin(c).eventState());
  const edge = rememberedEventState(event);
  return c.json(
    { ...state, edge: edge ? { header: edge.header, seenAt: new Date(edge.seenAt).toISOString() } : null },
    200,
    NO_STORE,
  );
});

operatorRoutes.patch('/events/:event/config', async (c) => {
  const patch = await readJson(c.req.raw, EventConfigPatch);
  return c.json(await applyEverywhere(c, eventOf(c), (o) => o.updateConfig(patch)), 200, NO_STORE);
});

operatorRoutes.post('/events/:event/masks', async (c) => {
  const mask = await readJson(c.req.raw, MaskRequest);
  return c.json(await applyEverywhere<Mask>(c, eventOf(c), (o, home) => o.addMask(mask, home?.id)), 201, NO_STORE);
});

operatorRoutes.delete('/events/:event/masks/:id', async (c) => {
  const id = z.coerce.number().int().positive().safeParse(c.req.param('id'));
  if (!id.success) throw new AppError('BAD_PATH', `mask id "${c.req.param('id')}" is invalid: a positive integer`);
  return c.json(await applyEverywhere(c, eventOf(c), (o) => o.removeMask(id.data)), 200, NO_STORE);
});

operatorRoutes.post('/events/:event/version', async (c) => {
  await readJson(c.req.raw, z.object({}).strict());
  return c.json(
    await applyEverywhere<{ version: number }>(c, eventOf(c), (o, home) => o.bumpVersion(home?.version)),
    200,
    NO_STORE,
  );
});

operatorRoutes.post('/events/:event/end', async (c) => {
  const req = await readJson(c.req.raw, EndRequest);
  return c.json(
    await applyEverywhere<EventStateView>(c, eventOf(c), (o, home) =>
      o.endEvent(home ? { lastK: home.endK ?? undefined } : req),
    ),
    200,
    NO_STORE,
  );
});

/** Back-to-back events: from `atK` on, this event's manifests move viewers to `event`. */
operatorRoutes.put('/events/:event/next', async (c) => {
  const req = await readJson(c.req.raw, NextRequest);
  return c.json(await applyEverywhere(c, eventOf(c), (o) => o.scheduleNext(req)), 200, NO_STORE);
});

operatorRoutes.delete('/events/:event/next', async (c) =>
  c.json(await applyEverywhere(c, eventOf(c), (o) => o.cancelNext()), 200, NO_STORE),
);
