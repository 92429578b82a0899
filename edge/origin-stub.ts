import { AppError } from '../contract/errors.ts';
import { RegionId } from '../contract/ids.ts';

/** Home region when wrangler.toml sets none. */
export const DEFAULT_REGION = 'r1';
/** Regions of the deployment when wrangler.toml sets none. */
export const DEFAULT_REGIONS = 'r1,r2';

/**
 * The origin object for one event in one region. A region is a Durable Object name
 * (`${event}:${region}`, placed near that region in production): the packagers cross-publish by
 * writing to every region's object, and the edge can fail over by asking another one.
 */
export function originFor(env: Env, event: string, region = regionOf(env)) {
  const id = env.EVENT_ORIGIN.idFromName(`${event}:${region}`);
  // Production places each region's objects near it (REGION_LOCATION_HINTS, docs/operations.md).
  // A hint only matters when an object is first created; afterwards it stays where it is.
  const locationHint = mapVar(env.REGION_LOCATION_HINTS)[region] as DurableObjectLocationHint | undefined;
  return locationHint ? env.EVENT_ORIGIN.get(id, { locationHint }) : env.EVENT_ORIGIN.get(id);
}

/**
 * The home region of one player request: in production from where the request arrived
 * (`request.cf.continent` through REGION_BY_CONTINENT, e.g. `EU=r1,NA=r2`), else this Worker's
 * REGION. Every other region follows it, for failover.
 */
export function regionsFor(env: Env, request: Request): string[] {
  const continent = (request as { cf?: { continent?: string } }).cf?.continent;
  const mapped = continent ? mapVar(env.REGION_BY_CONTINENT)[continent] : undefined;
  const all = regionsOf(env);
  return mapped && all.includes(mapped) ? [mapped, ...all.filter((r) => r !== mapped)] : all;
}

/** `a=1,b=2` as a record; empty or unset: {}. */
function mapVar(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (value ?? '').split(',')) {
    const [k, v] = pair.split('=').map((x) => x.trim());
    if (k && v) out[k] = v;
  }
  return out;
}

/** The region this Worker reads from: its home region. */
export function regionOf(env: Env): string {
  return env.REGION ?? DEFAULT_REGION;
}

/** Every region of the deployment, home first (wrangler.toml `REGIONS`, comma separated). */
export function regionsOf(env: Env): string[] {
  const listed = (env.REGIONS ?? DEFAULT_REGIONS)
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const home = regionOf(env);
  return [home, ...listed.filter((r) => r !== home)];
}

/** A region named by a client (`?region=`): well-formed and one of this deployment's, or a 400 saying which exist. */
export function requireKnownRegion(env: Env, value: string): string {
  const parsed = RegionId.safeParse(value);
  if (!parsed.success)
    throw new AppError('BAD_QUERY', `region "${value}" is invalid: ${parsed.error.issues[0].message}`);
  const known = regionsOf(env);
  if (!known.includes(parsed.data))
    throw new AppError('BAD_QUERY', `region "${value}" is not one of this deployment's regions: ${known.join(', ')}`);
  return parsed.data;
}
