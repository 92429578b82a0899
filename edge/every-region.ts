import type { Ctx } from './route-handler.ts';
import { AppError } from '../contract/errors.ts';
import { unwrap, type OriginResult } from '../origin/result.ts';
import { originFor, regionsOf } from './origin-stub.ts';

type Origin = ReturnType<typeof originFor>;

/** Header naming what each region answered to a control applied everywhere: `r1=ok, r2=EVENT_NOT_FOUND`. */
export const REGIONS_APPLIED_HEADER = 'x-regions-applied';

/**
 * Apply one operator control in every region's origin of the event. The home region goes first and
 * decides the answer (its error is the request's error, and then nothing else is asked); the other
 * regions follow with the home region's value — e.g. a mask keeps the same id everywhere — and
 * what each answered is reported in `x-regions-applied`, because a region can lag (an event
 * exists in a region once its first init is stored there).
 */
export async function applyEverywhere<T>(
  c: Ctx,
  event: string,
  call: (origin: Origin, home: T | undefined) => Promise<OriginResult<T>>,
  /** `all`: every region must accept (DRM: a region left clear would store clear media), else 502 REGION_NOT_APPLIED. */
  opts: { all?: boolean } = {},
): Promise<T> {
  const [home, ...others] = regionsOf(c.env);
  const value = unwrap(await call(originFor(c.env, event, home), undefined));
  const outcomes = await Promise.all(
    others.map(async (region) => {
      try {
        const r = await call(originFor(c.env, event, region), value);
        return `${region}=${r.ok ? 'ok' : r.code}`;
      } catch {
        return `${region}=UNREACHABLE`;
      }
    }),
  );
  const applied = [`${home}=ok`, ...outcomes].join(', ');
  c.header(REGIONS_APPLIED_HEADER, applied);
  if (opts.all && outcomes.some((o) => !o.endsWith('=ok'))) {
    throw new AppError(
      'REGION_NOT_APPLIED',
      `not every region accepted it (${applied}); the same request can be sent again`,
      { [REGIONS_APPLIED_HEADER]: applied },
    );
  }
  return value;
}
