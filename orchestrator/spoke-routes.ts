import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError } from '../contract/errors.ts';
import { EventId, PipelineId } from '../contract/ids.ts';
import { verifyToken } from '../contract/scoped-token.ts';
import type { AppEnv } from '../edge/route-handler.ts';
import { bearerToken } from '../edge/credentials.ts';
import { hubFor } from './hub-stub.ts';
import { errors, ErrorBody, json, NO_STORE, read, security, write } from './openapi-parts.ts';
import { METRICS_CONTENT_TYPE } from './metrics.ts';

/**
 * The Worker's side of the hub's spokes, alerts and metrics (docs/control-plane.md "State and
 * spokes", "Alerts", "Metrics"):
 * - `GET /api/hub/spoke`: a bridge's WebSocket. The Worker verifies its scoped ingest token
 *   (`Authorization: Bearer`, or `?token=` for a client that cannot send headers) and forwards the
 *   upgrade to the hub with the verified event and pipeline in `x-hub-event` / `x-hub-pipeline`.
 * - `GET /api/hub/watch`: a Control Room session's WebSocket (operator:read, the session cookie).
 * - Thumbnails, alerts with their webhooks, and `GET /metrics` (Prometheus text).
 * Mounted into the control API (orchestrator/api.ts) so the OpenAPI document lists the JSON routes.
 */
export const monitorApi = new OpenAPIHono<AppEnv>({
  defaultHook: (result) => {
    if (result.success) return;
    const where = result.target === 'param' ? 'BAD_PATH' : result.target === 'query' ? 'BAD_QUERY' : 'BAD_BODY';
    throw new AppError(
      where,
      result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '),
    );
  },
});

// ---- WebSockets -------------------------------------------------------------------------------

/** The bridge's scoped ingest token from the Authorization header, else from `?token=`. */
function spokeToken(c: Context<AppEnv>): string {
  const token = bearerToken(c.req.header('authorization')) ?? c.req.query('token');
  if (!token)
    throw new AppError('UNAUTHORIZED', 'send Authorization: Bearer <ingest token> (or ?token=)', {
      'www-authenticate': 'Bearer realm="ingest"',
    });
  return token;
}

function requireUpgrade(c: Context<AppEnv>): void {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket')
    throw new AppError('WEBSOCKET_REQUIRED', 'this route is a WebSocket: send Upgrade: websocket');
}

/** Forward an upgrade to the hub: a fresh request, so a caller can never set the verified headers itself. */
function toHub(c: Context<AppEnv>, verified: Record<string, string>): Promise<Response> {
  const headers = new Headers({ upgrade: 'websocket' });
  for (const [name, value] of Object.entries(verified)) headers.set(name, value);
  for (const name of [
    'sec-websocket-key',
    'sec-websocket-version',
    'sec-websocket-protocol',
    'sec-websocket-extensions',
  ]) {
    const value = c.req.header(name);
    if (value) headers.set(name, value);
  }
  const url = new URL(c.req.url);
  return hubFor(c.env).fetch(new Request(`https://hub${url.pathname}`, { headers }));
}

monitorApi.get('/api/hub/spoke', async (c) => {
  const token = spokeToken(c);
  const claims = await verifyToken(c.env.INGEST_TOKEN_KEY ?? '', token);
  if (claims?.scope !== 'ingest')
    throw new AppError('FORBIDDEN', 'the token is not a valid ingest token of this deployment');
  const asked = c.req.query('pipeline');
  if (asked !== undefined && claims.pipeline !== undefined && asked !== claims.pipeline)
    throw new AppError('FORBIDDEN', `the ingest token is for pipeline ${claims.pipeline}, not ${asked}`);
  const pipeline = claims.pipeline ?? asked;
  if (pipeline === undefined || !PipelineId.safeParse(pipeline).success)
    throw new AppError('BAD_QUERY', 'pipeline: the token names no pipeline; add ?pipeline=A');
  requireUpgrade(c);
  return toHub(c, { 'x-hub-event': claims.event, 'x-hub-pipeline': pipeline });
});

monitorApi.get('/api/hub/watch', read, async (c) => {
  requireUpgrade(c);
  return toHub(c, {});
});

// ---- thumbnails -------------------------------------------------------------------------------

monitorApi.openapi(
  createRoute({
    method: 'get',
    path: '/api/events/{event}/pipelines/{pipeline}/thumbnail.jpg',
    summary: "The latest thumbnail the pipeline's bridge sent (JPEG)",
    security,
    middleware: [read] as const,
    request: { params: z.object({ event: EventId, pipeline: PipelineId }) },
    responses: {
      200: {
        content: { 'image/jpeg': { schema: z.any() } },
        description: 'the JPEG; `last-modified` says when it arrived',
      },
      ...errors,
      404: json(ErrorBody, 'THUMBNAIL_NOT_FOUND'),
    },
  }),
  async (c) => {
    const { event, pipeline } = c.req.valid('param');
    const thumb = await hubFor(c.env).thumbnail(event, pipeline);
    if (!thumb) throw new AppError('THUMBNAIL_NOT_FOUND', `no thumbnail from ${event}/${pipeline} yet`);
    return c.body(thumb.bytes, 200, {
      'content-type': 'image/jpeg',
      'cache-control': 'no-store',
      'last-modified': new Date(thumb.at).toUTCString(),
    }) as never;
  },
);

// ---- alerts -----------------------------------------------------------------------------------

const AlertSchema = z.object({
  id: z.number(),
  rule: z.enum([
    'input-lost',
    'pipeline-late',
    'defect-rate',
    'region-down',
    'storage-near-budget',
    'edge-error-rate',
    'redundancy-lost',
  ]),
  event: z.string(),
  subject: z.string().describe('a pipeline (`A`), a region (`r2`) or `edge`'),
  state: z.enum(['SET', 'CLEARED']),
  setAt: z.string(),
  clearedAt: z.string().nullable(),
  message: z.string(),
  runbook: z.string().describe('one line: what to do'),
});

monitorApi.openapi(
  createRoute({
    method: 'get',
    path: '/api/alerts',
    summary: 'Alerts with their history, newest first (filter by event and state)',
    security,
    middleware: [read] as const,
    request: {
      query: z.object({
        event: EventId.optional(),
        state: z.enum(['SET', 'CLEARED']).optional(),
        limit: z.coerce.number().int().min(1).max(1000).optional(),
      }),
    },
    responses: { 200: json(z.object({ alerts: z.array(AlertSchema) }), 'newest first'), ...errors },
  }),
  async (c) => c.json({ alerts: await hubFor(c.env).listAlerts(c.req.valid('query')) }, 200, NO_STORE),
);

export const MAX_WEBHOOKS = 8;
const Webhooks = z
  .object({
    urls: z
      .array(
        z
          .string()
          .max(2048)
          .refine(
            (u) => {
              try {
                const p = new URL(u).protocol;
                return p === 'https:' || p === 'http:';
              } catch {
                return false;
              }
            },
            { message: 'an http or https URL' },
          ),
      )
      .max(MAX_WEBHOOKS),
  })
  .strict();
const WebhooksView = z.object({
  urls: z.array(z.string()),
  delivered: z.number().describe('POSTs answered 2xx since the hub started'),
  failed: z.number().describe('POSTs that failed, timed out (5 s) or were answered otherwise'),
});

monitorApi.openapi(
  createRoute({
    method: 'get',
    path: '/api/alerts/webhooks',
    summary: 'Where alerts are POSTed, and how deliveries went',
    security,
    middleware: [read] as const,
    responses: { 200: json(WebhooksView, 'the webhooks'), ...errors },
  }),
  async (c) => c.json(await hubFor(c.env).alertWebhooks(), 200, NO_STORE),
);

monitorApi.openapi(
  createRoute({
    method: 'put',
    path: '/api/alerts/webhooks',
    summary: `Replace the alert webhooks (at most ${MAX_WEBHOOKS} http(s) URLs; [] removes them)`,
    security,
    middleware: [write] as const,
    request: { body: { content: { 'application/json': { schema: Webhooks } }, required: true } },
    responses: { 200: json(WebhooksView, 'stored; every SET and CLEARED is POSTed to each'), ...errors },
  }),
  async (c) => c.json(await hubFor(c.env).setAlertWebhooks(c.req.valid('json').urls), 200, NO_STORE),
);

// ---- metrics ----------------------------------------------------------------------------------

monitorApi.openapi(
  createRoute({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus text exposition (0.0.4) of every event, pipeline, region, the edge and alerts',
    security,
    middleware: [read] as const,
    responses: { 200: { content: { 'text/plain': { schema: z.string() } }, description: 'metrics' }, ...errors },
  }),
  async (c) =>
    c.body(await hubFor(c.env).metrics(), 200, {
      'content-type': METRICS_CONTENT_TYPE,
      'cache-control': 'no-store',
    }) as never,
);
