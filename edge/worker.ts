import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { AppError } from '../contract/errors.ts';
import type { MiddlewareHandler } from 'hono';
import { requireCredential } from './credentials.ts';
import { forgetEvent } from './edge-answer.ts';
import { errorResponse } from './http-errors.ts';
import { liveEventGate } from './event-gate.ts';
import { controlApi } from '../orchestrator/api.ts';
import { contributionApi } from './contribution-route.ts';
import { sessionApi } from './control-session.ts';
import type { AppEnv } from './route-handler.ts';
import { middleware, routes } from './routes.ts';

export { EventOrigin } from '../origin/event-origin.ts';
export { OrchestratorHub } from '../orchestrator/hub.ts';
// Cloudflare Containers (bound in wrangler.toml [env.production] only; docs/containers.md).
export { EncoderBridge } from '../orchestrator/encoder-bridge-container.ts';

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
// The control plane's OpenAPI routes (orchestrator/api.ts) first: they own /api/events and /api/events/{event}.
app.route('/', controlApi);
// PUT /contribution/{event}/{pipeline}: a venue feed forwarded to its bridge container (edge/contribution-route.ts).
app.route('/', contributionApi);
// The Control Room's login: POST/GET/DELETE /api/session (a signed session cookie, edge/control-session.ts).
app.route('/', sessionApi);
for (const r of routes) {
  // A control of one event that succeeded: this isolate's edge cache forgets that event.
  const forgets = r.credential === 'operator:write' && r.path.includes(':event') && !r.keepsCache;
  // Player paths reach only events the hub created (edge/event-gate.ts), checked after the credential.
  const gate = r.path.startsWith('/live/:event/') ? [liveEventGate] : [];
  if (forgets) app.on(r.method, r.path, forgetEventAfter, requireCredential(r.credential), r.handler);
  else app.on(r.method, r.path, requireCredential(r.credential), ...gate, r.handler);
}

app.notFound((c) =>
  errorResponse(new AppError('ROUTE_NOT_FOUND', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)),
);
app.onError((err) =>
  // hono's own 400 (a JSON body that does not parse, seen by the control API's validator) is ours too.
  errorResponse(err instanceof HTTPException && err.status === 400 ? new AppError('BAD_BODY', err.message) : err),
);

export default app satisfies ExportedHandler<Env>;
