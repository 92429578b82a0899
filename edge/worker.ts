import { Hono } from 'hono';
import { AppError } from '../contract/errors.ts';
import type { MiddlewareHandler } from 'hono';
import { requireCredential } from './credentials.ts';
import { forgetEvent } from './edge-answer.ts';
import { errorResponse } from './http-errors.ts';
import type { AppEnv } from './route-handler.ts';
import { middleware, routes } from './routes.ts';

export { EventOrigin } from '../origin/event-origin.ts';

/**
 * The one Worker: ingest from the encoder bridge, player-facing live routes, the clock players
 * sync to, and operator APIs, all from the table in edge/routes.ts.
 */
const app = new Hono<AppEnv>();

const forgetEventAfter: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const event = c.req.param('event');
  if (event && c.res.status < 400) forgetEvent(event);
};

for (const m of middleware) app.use(m.path, m.handler);
for (const r of routes) {
  // A control of one event that succeeded: this isolate's edge cache forgets that event.
  const forgets = r.credential === 'operator:write' && r.path.includes(':event') && !r.keepsCache;
  if (forgets) app.on(r.method, r.path, forgetEventAfter, requireCredential(r.credential), r.handler);
  else app.on(r.method, r.path, requireCredential(r.credential), r.handler);
}

app.notFound((c) =>
  errorResponse(new AppError('ROUTE_NOT_FOUND', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)),
);
app.onError((err) => errorResponse(err));

export default app satisfies ExportedHandler<Env>;
