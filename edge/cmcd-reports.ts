import type { MiddlewareHandler } from 'hono';
import { readCmcd } from './cmcd.ts';
import { CmcdTally } from './cmcd-tally.ts';
import { originFor } from './origin-stub.ts';
import type { AppEnv } from './route-handler.ts';

/** This isolate's unreported CMCD counts (edge/cmcd-tally.ts). */
export const cmcdTally = new CmcdTally();

/**
 * Count the CMCD of every answered /live request (status below 400: requests for events that do
 * not exist must not create origin objects or counters) and, at most every few seconds per
 * event, send this isolate's counts to the event's origin in the Worker's REGION — the object the
 * operator state reads by default — after the response (waitUntil: the player never waits).
 * A report that fails is lost: these are viewer statistics, not billing.
 */
export const countCmcd: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  // `/live/{event}/…`; a middleware on `/live/*` has no route parameters.
  const event = c.req.path.split('/')[2];
  if (!event || c.res.status >= 400) return;
  cmcdTally.record(event, readCmcd(c.req.raw));
  const report = reportCmcd(c.env, event, false);
  if (report) c.executionCtx.waitUntil(report);
};

/** Send the event's counts now when due (or `force`, e.g. before the operator state is read). */
export function reportCmcd(env: Env, event: string, force: boolean): Promise<void> | undefined {
  const report = cmcdTally.take(event, Date.now(), force);
  if (!report) return undefined;
  return originFor(env, event)
    .recordViewers(report)
    .catch(() => undefined);
}
