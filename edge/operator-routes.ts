import { z } from 'zod';
import { AppError } from '../contract/errors.ts';
import { EventConfigPatch } from '../contract/event-config.ts';
import { EventId } from '../contract/ids.ts';
import { EndRequest, MaskRequest, NextRequest, type Mask, TokenRequest } from '../contract/operator.ts';
import { mintToken } from '../contract/scoped-token.ts';
import type { EventStateView } from '../origin/event-origin.ts';
import { unwrap } from '../origin/result.ts';
import type { Ctx, RouteHandler } from './route-handler.ts';
import { rememberedEventState } from './event-state-memory.ts';
import { shieldState } from './live-routes.ts';
import { reportCmcd } from './cmcd-reports.ts';
import { pathPart } from './ingest-path.ts';
import { readJson } from './json-body.ts';
import { applyEverywhere } from './every-region.ts';
import { originFor, requireKnownRegion } from './origin-stub.ts';

/**
 * Operator APIs (credentials in edge/routes.ts: views take the read-only or the read-write operator
 * token, controls only the read-write one; docs/operations.md, "Operator controls").
 * Each change is applied by the event's origin object in every region before the answer is sent,
 * so the very next player request sees it wherever it lands. Bodies are validated first: a
 * rejected request changes nothing.
 */
const NO_STORE = { 'cache-control': 'no-store' };
const eventOf = (c: Ctx) => pathPart(EventId, c.req.param('event'), 'event');
/** The event's origin in `?region=` (default: this Worker's region), for the read-only views. */
const origin = (c: Ctx) => {
  const region = c.req.query('region');
  return originFor(c.env, eventOf(c), region === undefined ? undefined : requireKnownRegion(c.env, region));
};

/** Storage footprint of one event's origin in one region (`?region=`, default this one): candidates, chunk rows, bytes, K range. */
export const getStorage: RouteHandler = async (c) => c.json(await origin(c).storageStats(), 200, NO_STORE);

/** The origin's state of the event (`?region=`, default this one) plus the newest x-event-state this edge isolate has seen. */
export const getState: RouteHandler = async (c) => {
  const event = eventOf(c);
  // This isolate's CMCD counts not yet reported go first, so `viewers` includes them.
  await reportCmcd(c.env, event, true);
  const state = unwrap(await origin(c).eventState());
  const edge = rememberedEventState(event);
  return c.json(
    {
      ...state,
      edge: {
        header: edge?.header ?? null,
        seenAt: edge ? new Date(edge.seenAt).toISOString() : null,
        shield: shieldState(),
      },
    },
    200,
    NO_STORE,
  );
};

export const patchConfig: RouteHandler = async (c) => {
  const patch = await readJson(c.req.raw, EventConfigPatch);
  return c.json(await applyEverywhere(c, eventOf(c), (o) => o.updateConfig(patch)), 200, NO_STORE);
};

export const postMask: RouteHandler = async (c) => {
  const mask = await readJson(c.req.raw, MaskRequest);
  return c.json(await applyEverywhere<Mask>(c, eventOf(c), (o, home) => o.addMask(mask, home?.id)), 201, NO_STORE);
};

export const deleteMask: RouteHandler = async (c) => {
  const id = z.coerce.number().int().positive().safeParse(c.req.param('id'));
  if (!id.success) throw new AppError('BAD_PATH', `mask id "${c.req.param('id')}" is invalid: a positive integer`);
  return c.json(await applyEverywhere(c, eventOf(c), (o) => o.removeMask(id.data)), 200, NO_STORE);
};

export const postVersion: RouteHandler = async (c) => {
  await readJson(c.req.raw, z.object({}).strict());
  return c.json(
    await applyEverywhere<{ version: number }>(c, eventOf(c), (o, home) => o.bumpVersion(home?.version)),
    200,
    NO_STORE,
  );
};

export const postEnd: RouteHandler = async (c) => {
  const req = await readJson(c.req.raw, EndRequest);
  return c.json(
    await applyEverywhere<EventStateView>(c, eventOf(c), (o, home) =>
      o.endEvent(home ? { lastK: home.endK ?? undefined } : req),
    ),
    200,
    NO_STORE,
  );
};

/** Back-to-back events: from `atK` on, this event's manifests move viewers to `event`. */
export const putNext: RouteHandler = async (c) => {
  const req = await readJson(c.req.raw, NextRequest);
  return c.json(await applyEverywhere(c, eventOf(c), (o) => o.scheduleNext(req)), 200, NO_STORE);
};

export const deleteNext: RouteHandler = async (c) =>
  c.json(await applyEverywhere(c, eventOf(c), (o) => o.cancelNext()), 200, NO_STORE);

/**
 * A contribution token scoped to this event: `ingest` (optionally for one pipeline) for a bridge,
 * `captions` for a live captioner. Stateless (contract/scoped-token.ts): nothing is stored, and
 * rotating `INGEST_TOKEN_KEY` revokes every token.
 */
export const postToken: RouteHandler = async (c) => {
  const event = eventOf(c);
  const req = await readJson(c.req.raw, TokenRequest);
  if (req.scope === 'captions' && req.pipeline !== undefined)
    throw new AppError('BAD_BODY', 'pipeline: a captions token is for the whole event; leave pipeline out');
  const token = await mintToken(c.env.INGEST_TOKEN_KEY, { scope: req.scope, event, pipeline: req.pipeline });
  return c.json({ token, scope: req.scope, event, pipeline: req.pipeline ?? null }, 201, NO_STORE);
};
