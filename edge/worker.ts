import { Hono } from 'hono';
import { AppError } from '../contract/errors.ts';
import { cors } from './cors.ts';
import { captionsRoutes } from './captions-routes.ts';
import { clearKeyRoutes, drmOperatorRoutes } from './drm-routes.ts';
import type { Env } from './env.ts';
import { errorResponse } from './http-errors.ts';
import { ingestRoutes } from './ingest-route.ts';
import { liveRoutes } from './live-routes.ts';
import { operatorRoutes } from './operator-routes.ts';

export { EventOrigin } from '../origin/event-origin.ts';

/**
 * The one Worker: ingest from the encoder bridge, player-facing live routes, the clock players
 * sync to, and operator APIs. `/` and `/vendor/*` never get here: they are static assets
 * (wrangler.toml [assets]).
 */
const app = new Hono<{ Bindings: Env }>();

app.route('/ingest', ingestRoutes);
app.route('/live', liveRoutes);
// Before operatorRoutes, whose middleware wants the operator token for everything under /api.
app.route('/api', captionsRoutes);
app.route('/api', drmOperatorRoutes);
app.route('/api', operatorRoutes);
app.route('/drm', clearKeyRoutes);

/** DASH UTCTiming (urn:mpeg:dash:utc:http-iso:2014) and hls.js clock sync: never cached. */
app.use('/time', cors);
app.get('/time', (c) => c.text(new Date().toISOString(), 200, { 'cache-control': 'no-store' }));

app.notFound((c) =>
  errorResponse(new AppError('ROUTE_NOT_FOUND', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)),
);
app.onError((err) => errorResponse(err));

export default app satisfies ExportedHandler<Env>;
