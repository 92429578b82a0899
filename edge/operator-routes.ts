import { Hono } from 'hono';
import { EventId } from '../contract/ids.ts';
import { requireBearer } from './bearer-auth.ts';
import type { Env } from './env.ts';
import { pathPart } from './ingest-path.ts';
import { originFor } from './origin-stub.ts';

/** Operator APIs (Authorization: Bearer $OPERATOR_TOKEN). */
export const operatorRoutes = new Hono<{ Bindings: Env }>();

operatorRoutes.use('*', async (c, next) => {
  await requireBearer(c.req.header('authorization'), c.env.OPERATOR_TOKEN, 'operator');
  await next();
});

/** Storage footprint of one event's origin in this region (candidates, chunk rows, bytes, K range). */
operatorRoutes.get('/events/:event/storage', async (c) => {
  const event = pathPart(EventId, c.req.param('event'), 'event');
  return c.json(await originFor(c.env, event).storageStats(), 200, { 'cache-control': 'no-store' });
});
