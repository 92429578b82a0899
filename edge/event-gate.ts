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
 */
const KNOWN_MS = 60_000;
const UNKNOWN_MS = 1_000;
const memo = new Map<string, { exists: boolean; until: number }>();
const inFlight = new Map<string, Promise<boolean>>();

export async function requireCreatedEvent(env: Env, event: string): Promise<void> {
  if (!(await eventCreated(env, event)))
    throw new AppError('EVENT_NOT_CREATED', `no event ${event}: an operator creates it first (POST /api/events)`, {
      'cache-control': 'public, max-age=1',
    });
}

async function eventCreated(env: Env, event: string): Promise<boolean> {
  const now = Date.now();
  const known = memo.get(event);
  if (known && known.until > now) return known.exists;
  const other = inFlight.get(event);
  // Another request's lookup: awaited through awaitAnother, or this request's continuation (and
  // the Response it makes) may run in that request's context (edge-cache.ts explains).
  if (other) return awaitAnother(other);
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
  if (event && EventId.safeParse(event).success) await requireCreatedEvent(c.env, event);
  await next();
};
