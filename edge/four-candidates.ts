import type { OriginResult } from '../origin/result.ts';
import type { RegionHealth } from './region-health.ts';

/**
 * The best of four candidates (DESIGN §5, §8): each region's origin selects the better of
 * pipeline A's and B's copies; the edge asks its home region and, when that answer is missing,
 * defective, failing or late, the other region too, and serves the best. Why it chose travels in
 * `x-candidate-reason`:
 * - `home`: the home region's copy, clean;
 * - `home-down`: the home region was remembered down, the next region answered;
 * - `home-error` / `home-timeout`: the home region failed now or missed the deadline;
 * - `home-missing`: the home region has no copy (gone there), the other has one;
 * - `home-defective`: the home copy is defective and the other region's is better;
 * - `home-best`: the home copy is defective, and no region has a better one.
 */
export type CandidateReason =
  | 'home'
  | 'home-down'
  | 'home-error'
  | 'home-timeout'
  | 'home-missing'
  | 'home-defective'
  | 'home-best';

export interface Chosen<T> {
  region: string;
  result: OriginResult<T>;
  reason: CandidateReason;
}

type Outcome<T> =
  | { kind: 'answer'; region: string; result: OriginResult<T> }
  | { kind: 'error'; region: string; error: unknown }
  | { kind: 'timeout'; region: string };

export interface ChooseOptions<T> {
  /** Home first, then the others (origin-stub.ts regionsOf). */
  regions: string[];
  ask: (region: string) => Promise<OriginResult<T>>;
  /** Defects of an answer (none: clean). */
  defectsOf: (value: T) => string[];
  /** Is a refusal final everywhere (the segment is not due yet: the same clock rules every region)? */
  refusalIsFinal: (result: Extract<OriginResult<T>, { ok: false }>) => boolean;
  /** UTC ms by which the first region must have answered before another is asked. */
  deadlineAt: number;
  /** How long a region asked second gets (at least). */
  regionTimeoutMs: number;
  health: RegionHealth;
  /**
   * Lets go of an answer that is not served: the loser of two, or one that came after its
   * region's deadline (a stream nobody will read must be cancelled, not left open).
   */
  discard?: (value: T) => void;
}

export async function chooseAcrossRegions<T>(o: ChooseOptions<T>): Promise<Chosen<T>> {
  const [home, ...others] = o.regions;
  const homeDown = others.length > 0 && o.health.isDown(home);
  const order = homeDown ? [...others, home] : o.regions;
  const first = await within(order[0], o.ask(order[0]), o.deadlineAt, o.discard);
  note(o.health, first);
  if (first.kind === 'answer' && isClean(first.result, o)) {
    return { region: first.region, result: first.result, reason: homeDown ? 'home-down' : 'home' };
  }
  if (first.kind === 'answer' && !first.result.ok && o.refusalIsFinal(first.result)) {
    return { region: first.region, result: first.result, reason: homeDown ? 'home-down' : 'home' };
  }
  if (order.length < 2) return finish(first, undefined, homeDown);
  // The second region gets its own time: it is asked late, not expected to be faster.
  const second = await within(
    order[1],
    o.ask(order[1]),
    Math.max(o.deadlineAt, Date.now() + o.regionTimeoutMs),
    o.discard,
  );
  note(o.health, second);
  return pick(first, second, o, homeDown);
}

function pick<T>(first: Outcome<T>, second: Outcome<T>, o: ChooseOptions<T>, homeDown: boolean): Chosen<T> {
  const served = [first, second].filter(
    (x): x is Extract<Outcome<T>, { kind: 'answer' }> => x.kind === 'answer' && x.result.ok,
  );
  const defects = (x: Extract<Outcome<T>, { kind: 'answer' }>) =>
    x.result.ok ? o.defectsOf(x.result.value).length : Number.POSITIVE_INFINITY;
  // Fewest defects wins; on a tie the earlier region (home unless it is down).
  const best = served.sort((a, b) => defects(a) - defects(b))[0];
  for (const loser of served.slice(1)) if (loser.result.ok) o.discard?.(loser.result.value);
  if (best) {
    const reason: CandidateReason = homeDown
      ? 'home-down'
      : best === first
        ? 'home-best'
        : first.kind === 'error'
          ? 'home-error'
          : first.kind === 'timeout'
            ? 'home-timeout'
            : first.kind === 'answer' && first.result.ok
              ? 'home-defective'
              : 'home-missing';
    return { region: best.region, result: best.result, reason };
  }
  return finish(first, second, homeDown);
}

/** Nothing served anywhere: the first real refusal (a region's "gone" beats another's failure). */
function finish<T>(first: Outcome<T>, second: Outcome<T> | undefined, homeDown: boolean): Chosen<T> {
  for (const x of [first, second]) {
    if (x?.kind === 'answer') return { region: x.region, result: x.result, reason: homeDown ? 'home-down' : 'home' };
  }
  const failed = [first, second].filter(Boolean).map((x) => `${x!.region}: ${x!.kind}`);
  return {
    region: first.region,
    result: {
      ok: false,
      code: 'ORIGIN_UNAVAILABLE',
      message: `no origin region answered (${failed.join(', ')})`,
      fact: { state: 'shed', retryAfterMs: 1000 },
    },
    reason: first.kind === 'timeout' ? 'home-timeout' : 'home-error',
  };
}

function isClean<T>(result: OriginResult<T>, o: ChooseOptions<T>): boolean {
  return result.ok && o.defectsOf(result.value).length === 0;
}

function note<T>(health: RegionHealth, outcome: Outcome<T>): void {
  if (outcome.kind === 'answer') health.markUp(outcome.region);
  else health.markDown(outcome.region);
}

async function within<T>(
  region: string,
  call: Promise<OriginResult<T>>,
  deadlineAt: number,
  discard: ((value: T) => void) | undefined,
): Promise<Outcome<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<Outcome<T>>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'timeout', region }), Math.max(0, deadlineAt - Date.now()));
  });
  const answer = call.then(
    (result): Outcome<T> => ({ kind: 'answer', region, result }),
    (error): Outcome<T> => ({ kind: 'error', region, error }),
  );
  try {
    const outcome = await Promise.race([answer, timeout]);
    if (outcome.kind === 'timeout' && discard) {
      void answer.then((late) => {
        if (late.kind === 'answer' && late.result.ok) discard(late.result.value);
      });
    }
    return outcome;
  } finally {
    clearTimeout(timer);
  }
}
