import { describe, expect, it } from 'vitest';
import { reconcilePlan } from './reconcile.ts';

describe('reconcilePlan (a hub that restarts mid-event)', () => {
  const p = (event: string, pipeline: string) => ({ event, pipeline });
  it('reattaches to what runs, starts only what is missing', () => {
    const plan = reconcilePlan([p('e', 'A'), p('e', 'B')], [p('e', 'A')], new Set(['e']));
    expect(plan).toEqual({ reattach: [p('e', 'A')], start: [p('e', 'B')], stop: [] });
  });
  it('starts nothing when everything still runs', () => {
    const plan = reconcilePlan([p('e', 'A'), p('e', 'B')], [p('e', 'B'), p('e', 'A')], new Set(['e']));
    expect(plan.start).toEqual([]);
    expect(plan.reattach).toHaveLength(2);
  });
  it("stops a known event's pipeline that should not run; leaves unknown events' alone", () => {
    const plan = reconcilePlan([p('e', 'A')], [p('e', 'A'), p('e', 'B'), p('other', 'A')], new Set(['e']));
    expect(plan.stop).toEqual([p('e', 'B')]);
  });
});
