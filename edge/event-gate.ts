import { AppError } from '../contract/errors.ts';
import { EventId } from '../contract/ids.ts';
import { hubFor } from '../orchestrator/hub-stub.ts';
import { awaitAnother } from './edge-cache.ts';
import type { RouteHandler } from './route-handler.ts';

/**
 * Events are created, not implied (DESIGN §9): ingest and player requests for an event the hub
 * never created are refused here, before any origin object is addressed, so neither can create
 * one. The answer is remembered per isolate — a created event for a minute (deletion is rare and
 * its origins keep answering from their DVR anyway), an unknown one for a second (so an event
 * created a moment ago is seen at once) — so the hub is asked about once per event per isolate.
 * A created event whose minute has run out is still let through while the hub is asked again in
 * the background (stale-while-revalidate, where the caller can keep the lookup alive with
 * waitUntil), so no player request waits on the hub once per minute; up to STALE_MS after that a
 * request waits as usual (a hub that stopped answering is noticed, not hidden).
 */
const KNOWN_MS = 60_000;
const UNKNOWN_MS = 1_000;
const STALE_MS = 5 * 60_000;
const memo = new Map<string, { exists: boolean; until: number }>();
const inFlight = new Map<string, Promise<boolean>>();

/** `waitUntil` (the request's execution context) lets a stale known event through while it is looked up again. */
export async function requireCreatedEvent(
  env: Env,
  event: string,
  waitUntil?: (pending: Promise<unknown>) => void,
): Promise<void> {
  if (!(await eventCreated(env, event, waitUntil)))
    throw new AppError('EVENT_NOT_CREATED', `no event ${event}: an operator creates it first (POST /api/events)`, {
      'cache-control': 'public, max-age=1',
    });
}

async function eventCreated(
  env: Env,
  event: string,
  waitUntil?: (pending: Promise<unknown>) => void,
): Promise<boolean> {
  const now = Date.now();
  const known = memo.get(event);
  if (known && known.until > now) return known.exists;
  if (known?.exists && waitUntil && now - known.until < STALE_MS) {
    // A lookup promise that no request keeps alive could be cancelled with its request and never
    // settle, so the background refresh exists only under waitUntil.
    if (!inFlight.has(event)) waitUntil(lookUp(env, event).catch(() => {}));
    return true;
  }
  const other = inFlight.get(event);
  // Another request's lookup: awaited through awaitAnother, or this request's continuation (and
  // the Response it makes) may run in that request's context (edge-cache.ts explains).
  if (other) return awaitAnother(other);
  return lookUp(env, event);
}

function lookUp(env: Env, event: string): Promise<boolean> {
  const pending = hubFor(env)
    .eventExists(event)
    .then((exists) => {
      memo.set(event, { exists, until: Date.now() + (exists ? KNOWN_MS : UNKNOWN_MS) });
      if (memo.size > 10_000) memo.delete(memo.keys().next().value!);
      return exists;
    })
    .finally(() => inFlight.delete(event));
  inFlight.set(event, pending);
  return pending;
}

/** Whether this isolate currently knows the event was created (no hub call): edge/edge-reports.ts counts only those. */
export function isKnownCreatedEvent(event: string): boolean {
  return memo.get(event)?.exists === true;
}

/** This isolate created or deleted the event: ask the hub again next time. */
export function forgetEventGate(event: string): void {
  memo.delete(event);
}

/** For `/live/:event/*`: a malformed id is left to the route's own 400. */
export const liveEventGate: RouteHandler = async (c, next) => {
  const event = c.req.param('event');
  if (event && EventId.safeParse(event).success)
    await requireCreatedEvent(c.env, event, (pending) => c.executionCtx.waitUntil(pending));
  await next();
};
