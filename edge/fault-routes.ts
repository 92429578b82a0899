import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { AppError } from '../contract/errors.ts';
import { EventId } from '../contract/ids.ts';
import { FAULT_MODES } from '../origin/fault-switch.ts';
import { pathPart } from './ingest-path.ts';
import { readJson } from './json-body.ts';
import { originFor, regionOf, requireKnownRegion } from './origin-stub.ts';
import type { AppEnv, Ctx, RouteHandler } from './route-handler.ts';

/**
 * Fault injection for failover tests (docs/operations.md, "Fault injection (local only)"):
 * `PUT /api/events/{event}/fault?region=r1` with `{"mode": "error" | "hang" | "defective" | "none"}`
 * switches what that region's origin object does to player requests (origin/fault-switch.ts).
 * It exists only where the Worker var ALLOW_FAULT_INJECTION is "true", which only `.dev.vars`
 * (local development) sets; anywhere else the path is an unknown route (404 ROUTE_NOT_FOUND),
 * answered before any credential is asked for, so production does not even reveal it.
 */
export const FaultRequest = z.object({ mode: z.enum(FAULT_MODES) }).strict();

export const faultInjectionAllowed = (env: Env): boolean => env.ALLOW_FAULT_INJECTION === 'true';

/** Exactly what the Worker answers for a path it has no route for (edge/worker.ts). */
const noRoute = (c: Ctx) =>
  new AppError('ROUTE_NOT_FOUND', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`);

/** Middleware on the fault path, ahead of its credential check: no such route unless allowed. */
export const faultInjectionGate: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!faultInjectionAllowed(c.env)) throw noRoute(c);
  await next();
};

export const putFault: RouteHandler = async (c) => {
  if (!faultInjectionAllowed(c.env)) throw noRoute(c);
  const event = pathPart(EventId, c.req.param('event'), 'event');
  const region = requireKnownRegion(c.env, c.req.query('region') ?? regionOf(c.env));
  const { mode } = await readJson(c.req.raw, FaultRequest);
  const fault = await originFor(c.env, event, region).setFault(mode);
  return c.json({ event, region, ...fault }, 200, { 'cache-control': 'no-store' });
};
