import type { Env } from './env.ts';
import { DEFAULT_REGION } from './env.ts';

/**
 * The origin object for one event in one region. A second region is only another name: the edge
 * can fail over by asking `${event}:r2`, and a packager cross-publishes by writing to both.
 */
export function originFor(env: Env, event: string, region = env.REGION ?? DEFAULT_REGION) {
  return env.EVENT_ORIGIN.get(env.EVENT_ORIGIN.idFromName(`${event}:${region}`));
}

export function regionOf(env: Env): string {
  return env.REGION ?? DEFAULT_REGION;
}
