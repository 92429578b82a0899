import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { EventDefinition, EventDefinitionPatch, EventPhase, Operation } from '../contract/control-plane.ts';
import { AppError } from '../contract/errors.ts';
import { EventId } from '../contract/ids.ts';
import { unwrap } from '../origin/result.ts';
import { forgetEvent } from '../edge/edge-answer.ts';
import { forgetEventGate } from '../edge/event-gate.ts';
import type { AppEnv } from '../edge/route-handler.ts';
import { hubFor } from './hub-stub.ts';
import { errors, ErrorBody, json, NO_STORE, read, security, write } from './openapi-parts.ts';
import { monitorApi } from './spoke-routes.ts';
import { SpliceAnswer, SplicePost, spliceFromPost } from '../contract/splices.ts';
import { requireTokenFor } from '../edge/credentials.ts';
import { operatorOrIngest } from './splice-auth.ts';

/**
 * The control plane's operator API (docs/control-plane.md), declared with zod schemas so the
 * OpenAPI document (`GET /api/openapi.json`) is generated from the same schemas that validate
 * requests. Views take the read-only operator token, changes the read-write one. A request that
 * fails validation is a 400 naming the field, and the hub is never asked.
 */
export const controlApi = new OpenAPIHono<AppEnv>({
  defaultHook: (result) => {
    if (result.success) return;
    const where = result.target === 'param' ? 'BAD_PATH' : result.target === 'query' ? 'BAD_QUERY' : 'BAD_BODY';
    throw new AppError(
      where,
      result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '),
    );
  },
});

controlApi.openAPIRegistry.registerComponent('securitySchemes', 'operator', {
  type: 'http',
  scheme: 'bearer',
  description: 'OPERATOR_TOKEN (read-write) or OPERATOR_READ_TOKEN (views only), or the Control Room session cookie',
});

const EventParam = z.object({ event: EventId });
const EventView = z.object({
  definition: EventDefinition,
  phase: EventPhase,
  createdAt: z.string(),
  updatedAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  desired: z.record(z.string(), z.enum(['running', 'stopped'])),
});
const AuditEntry = z.object({ id: z.number(), at: z.string(), who: z.string(), what: z.string(), detail: z.any() });

const body = <T extends z.ZodType>(schema: T) => ({
  body: { content: { 'application/json': { schema } }, required: true },
});

controlApi.openapi(
  createRoute({
    method: 'post',
    path: '/api/events',
    summary: 'Create an event',
    security,
    middleware: [write] as const,
    request: body(EventDefinition),
    responses: {
      201: json(EventView, 'created; its origin objects exist in every region'),
      ...errors,
      409: json(ErrorBody, 'EVENT_EXISTS'),
    },
  }),
  async (c) => {
    const definition = c.req.valid('json');
    const view = unwrap(await hubFor(c.env).createEvent(definition));
    forgetEventGate(definition.id);
    return c.json(view, 201, NO_STORE);
  },
);

controlApi.openapi(
  createRoute({
    method: 'get',
    path: '/api/events',
    summary: 'List events',
    security,
    middleware: [read] as const,
    responses: { 200: json(z.object({ events: z.array(EventView) }), 'every event, oldest first'), ...errors },
  }),
  async (c) => c.json({ events: await hubFor(c.env).listEvents() }, 200, NO_STORE),
);

controlApi.openapi(
  createRoute({
    method: 'get',
    path: '/api/events/{event}',
    summary: 'One event with its phase and the pipelines that should run',
    security,
    middleware: [read] as const,
    request: { params: EventParam },
    responses: {
      200: json(
        EventView.extend({
          status: z
            .any()
            .optional()
            .describe('EventStatus (contract/control-state.ts): pipelines, regions, edge, alerts, series, timeline'),
        }),
        'the event with its live status',
      ),
      ...errors,
      404: json(ErrorBody, 'EVENT_NOT_FOUND'),
    },
  }),
  async (c) => c.json(unwrap(await hubFor(c.env).getEvent(c.req.valid('param').event)), 200, NO_STORE),
);

controlApi.openapi(
  createRoute({
    method: 'patch',
    path: '/api/events/{event}',
    summary: 'Change title, schedule, DVR window, captions, player tokens or the next event',
    security,
    middleware: [write] as const,
    request: { params: EventParam, ...body(EventDefinitionPatch) },
    responses: {
      200: json(EventView, 'changed, in every region'),
      ...errors,
      404: json(ErrorBody, 'EVENT_NOT_FOUND'),
      409: json(ErrorBody, 'EVENT_ENDED'),
    },
  }),
  async (c) => {
    const { event } = c.req.valid('param');
    const view = unwrap(await hubFor(c.env).updateEvent(event, c.req.valid('json')));
    forgetEvent(event);
    return c.json(view, 200, NO_STORE);
  },
);

controlApi.openapi(
  createRoute({
    method: 'delete',
    path: '/api/events/{event}',
    summary: 'Delete an event that is not running',
    security,
    middleware: [write] as const,
    request: { params: EventParam },
    responses: {
      200: json(z.object({ deleted: z.string() }), 'deleted'),
      ...errors,
      404: json(ErrorBody, 'EVENT_NOT_FOUND'),
      409: json(ErrorBody, 'EVENT_RUNNING'),
    },
  }),
  async (c) => {
    const { event } = c.req.valid('param');
    const answer = unwrap(await hubFor(c.env).deleteEvent(event));
    forgetEventGate(event);
    return c.json(answer, 200, NO_STORE);
  },
);

controlApi.openapi(
  createRoute({
    method: 'post',
    path: '/api/events/{event}/operations',
    summary: 'Run a live operation (start, stop, restart a pipeline, mask, prefer, DVR window, next, end)',
    security,
    middleware: [write] as const,
    request: { params: EventParam, ...body(Operation) },
    responses: {
      200: json(EventView, 'applied and recorded in the timeline'),
      ...errors,
      404: json(ErrorBody, 'EVENT_NOT_FOUND'),
      409: json(ErrorBody, 'EVENT_ENDED'),
      502: json(ErrorBody, 'PROVISIONER_FAILED'),
    },
  }),
  async (c) => {
    const { event } = c.req.valid('param');
    const view = unwrap(await hubFor(c.env).operate(event, c.req.valid('json')));
    forgetEvent(event);
    return c.json(view, 200, NO_STORE);
  },
);

controlApi.openapi(
  createRoute({
    method: 'get',
    path: '/api/events/{event}/timeline',
    summary: 'The audit timeline: who changed what, when',
    security,
    middleware: [read] as const,
    request: {
      params: EventParam,
      query: z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() }),
    },
    responses: {
      200: json(z.object({ entries: z.array(AuditEntry) }), 'oldest first'),
      ...errors,
      404: json(ErrorBody, 'EVENT_NOT_FOUND'),
    },
  }),
  async (c) => {
    const { event } = c.req.valid('param');
    const entries = unwrap(await hubFor(c.env).timeline(event, c.req.valid('query').limit));
    return c.json({ entries: entries as z.infer<typeof AuditEntry>[] }, 200, NO_STORE);
  },
);

controlApi.openapi(
  createRoute({
    method: 'post',
    path: '/api/events/{event}/splices',
    summary: 'Insert an ad break (SCTE-35), now or at a time, in every region',
    description:
      "The operator token, or the event's ingest token (the bridge posts the feed's own SCTE-35). The same splice again (the same id, or the same `at`) is a 200 with added false; retry with one of them, since without `at` the time is now (docs/api.md, Splices).",
    security,
    middleware: [operatorOrIngest] as const,
    request: { params: EventParam, ...body(SplicePost) },
    responses: {
      201: json(SpliceAnswer, 'stored in every region; players see it from the next manifest'),
      200: json(SpliceAnswer, 'already stored (the other pipeline, or a retry)'),
      ...errors,
      404: json(ErrorBody, 'EVENT_NOT_FOUND'),
      409: json(ErrorBody, 'SPLICE_CONFLICT or EVENT_ENDED'),
    },
  }),
  async (c) => {
    const { event } = c.req.valid('param');
    // The credential decides the source: an ingest token is the contribution feed, for its own event only.
    const feed = c.get('claims') !== undefined;
    if (feed) requireTokenFor(c, event);
    const splice = spliceFromPost(c.req.valid('json'), feed ? 'feed' : 'operator', Date.now());
    const answer = unwrap(await hubFor(c.env).addSplice(event, splice));
    if (answer.added) forgetEvent(event);
    return c.json(answer, answer.added ? 201 : 200, NO_STORE);
  },
);

// Spokes, thumbnails, alerts, webhooks, metrics (orchestrator/spoke-routes.ts).
controlApi.route('/', monitorApi);

controlApi.doc31('/api/openapi.json', {
  openapi: '3.1.0',
  info: {
    title: 'Live origin shield control plane',
    version: '1',
    description: 'Events, schedules and live operations (docs/control-plane.md).',
  },
});
