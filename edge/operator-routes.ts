import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { AppError } from '../contract/errors.ts';
import { EventConfigPatch } from '../contract/event-config.ts';
import { EventId } from '../contract/ids.ts';
import { EndRequest, MaskRequest, NextRequest } from '../contract/operator.ts';
import { unwrap } from '../origin/result.ts';
import { requireBearer } from './bearer-auth.ts';
import type { Env } from './env.ts';
import { rememberedEventState } from './event-state-memory.ts';
import { pathPart } from './ingest-path.ts';
import { readJson } from './json-body.ts';
import { originFor } from './origin-stub.ts';

/**
 * Operator APIs (Authorization: Bearer $OPERATOR_TOKEN; docs/operations.md, "Operator controls").
 * Each change is applied by the event's origin object before the answer is sent, so the very
 * next player request sees it. Bodies are validated first: a rejected request changes nothing.
 */
export const operatorRoutes = new Hono<{ Bindings: Env }>();

operatorRoutes.use('*', async (c, next) => {
  await requireBearer(c.req.header('authorization'), c.env.OPERATOR_TOKEN, 'operator');
  await next();
});

type Ctx = Context<{ Bindings: Env }>;
const NO_STORE = { 'cache-control': 'no-store' };
const origin = (c: Ctx) => originFor(c.env, pathPart(EventId, c.req.param('event'), 'event'));

/** Storage footprint of one event's origin in this region (candidates, chunk rows, bytes, K range). */
operatorRoutes.get('/events/:event/storage', async (c) => c.json(await origin(c).storageStats(), 200, NO_STORE));

/** The origin's state of the event plus the newest x-event-state this edge isolate has seen. */
operatorRoutes.get('/events/:event/state', async (c) => {
  const event = pathPart(EventId, c.req.param('event'), 'event');
  const state = unwrap(await originFor(c.env, event).eventState());
  const edge = rememberedEventState(event);
  return c.json({ ...state, edge: edge ? { header: edge.header, seenAt: new Date(edge.seenAt).toISOString() } : null }, 200, NO_STORE);
});

operatorRoutes.patch('/events/:event/config', async (c) => {
  const patch = await readJson(c.req.raw, EventConfigPatch);
  return c.json(unwrap(await origin(c).updateConfig(patch)), 200, NO_STORE);
});

operatorRoutes.post('/events/:event/masks', async (c) => {
  const mask = await readJson(c.req.raw, MaskRequest);
  return c.json(unwrap(await origin(c).addMask(mask)), 201, NO_STORE);
});

operatorRoutes.delete('/events/:event/masks/:id', async (c) => {
  const id = z.coerce.number().int().positive().safeParse(c.req.param('id'));
  if (!id.success) throw new AppError('BAD_PATH', `mask id "${c.req.param('id')}" is invalid: a positive integer`);
  return c.json(unwrap(await origin(c).removeMask(id.data)), 200, NO_STORE);
});

operatorRoutes.post('/events/:event/version', async (c) => {
  await readJson(c.req.raw, z.object({}).strict());
  return c.json(unwrap(await origin(c).bumpVersion()), 200, NO_STORE);
});

operatorRoutes.post('/events/:event/end', async (c) => {
  const req = await readJson(c.req.raw, EndRequest);
  return c.json(unwrap(await origin(c).endEvent(req)), 200, NO_STORE);
});

/** Back-to-back events: from `atK` on, this event's manifests move viewers to `event`. */
operatorRoutes.put('/events/:event/next', async (c) => {
  const req = await readJson(c.req.raw, NextRequest);
  return c.json(unwrap(await origin(c).scheduleNext(req)), 200, NO_STORE);
});

operatorRoutes.delete('/events/:event/next', async (c) => c.json(unwrap(await origin(c).cancelNext()), 200, NO_STORE));
