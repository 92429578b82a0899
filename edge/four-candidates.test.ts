import { describe, expect, it } from 'vitest';
import type { OriginResult } from '../origin/result.ts';
import { chooseAcrossRegions } from './four-candidates.ts';
import { RegionHealth } from './region-health.ts';

type Seg = { id: string; defects: string[] };
const ok = (id: string, defects: string[] = []): OriginResult<Seg> => ({ ok: true, value: { id, defects } });
const gone: OriginResult<Seg> = {
  ok: false,
  code: 'SEGMENT_GONE',
  message: 'gone',
  fact: { state: 'gone', recent: false },
};
const early: OriginResult<Seg> = {
  ok: false,
  code: 'SEGMENT_NOT_YET_AVAILABLE',
  message: 'early',
  fact: { state: 'early', dueMs: 0 },
};
const hang = () => new Promise<OriginResult<Seg>>(() => {});

function choose(
  answers: Record<string, () => Promise<OriginResult<Seg>>>,
  health = new RegionHealth(10_000),
  deadlineMs = 50,
) {
  const asked: string[] = [];
  return chooseAcrossRegions<Seg>({
    regions: ['r1', 'r2'],
    ask: (region) => {
      asked.push(region);
      return answers[region]();
    },
    defectsOf: (s) => s.defects,
    refusalIsFinal: (r) => r.fact?.state === 'early',
    deadlineAt: Date.now() + deadlineMs,
    regionTimeoutMs: deadlineMs,
    health,
  }).then((chosen) => ({ ...chosen, asked, id: chosen.result.ok ? chosen.result.value.id : chosen.result.code }));
}

describe('the best of four candidates across two regions', () => {
  it('a clean home copy is served without asking the other region', async () => {
    const c = await choose({ r1: async () => ok('r1'), r2: async () => ok('r2') });
    expect(c).toMatchObject({ id: 'r1', reason: 'home', asked: ['r1'] });
  });
  it('not yet due is final: the other region has the same clock', async () => {
    expect(await choose({ r1: async () => early, r2: async () => ok('r2') })).toMatchObject({
      asked: ['r1'],
      reason: 'home',
    });
  });
  it('missing, defective, failing or late at home: the other region', async () => {
    expect(await choose({ r1: async () => gone, r2: async () => ok('r2') })).toMatchObject({
      id: 'r2',
      reason: 'home-missing',
    });
    expect(await choose({ r1: async () => ok('r1', ['short']), r2: async () => ok('r2') })).toMatchObject({
      id: 'r2',
      reason: 'home-defective',
    });
    const broken = async (): Promise<OriginResult<Seg>> => {
      throw new Error('r1 is on fire');
    };
    expect(await choose({ r1: broken, r2: async () => ok('r2') })).toMatchObject({ id: 'r2', reason: 'home-error' });
    expect(await choose({ r1: hang, r2: async () => ok('r2') })).toMatchObject({ id: 'r2', reason: 'home-timeout' });
  });
  it('both defective: the fewest defects, home on a tie', async () => {
    const tie = await choose({ r1: async () => ok('r1', ['short']), r2: async () => ok('r2', ['tfdt']) });
    expect(tie).toMatchObject({ id: 'r1', reason: 'home-best' });
    const worse = await choose({ r1: async () => ok('r1', ['short', 'tfdt']), r2: async () => ok('r2', ['tfdt']) });
    expect(worse).toMatchObject({ id: 'r2', reason: 'home-defective' });
  });
  it('gone everywhere: the refusal; nobody answering: ORIGIN_UNAVAILABLE', async () => {
    expect(await choose({ r1: async () => gone, r2: async () => gone })).toMatchObject({ id: 'SEGMENT_GONE' });
    const none = await choose({ r1: hang, r2: hang });
    expect(none).toMatchObject({ id: 'ORIGIN_UNAVAILABLE', reason: 'home-timeout' });
    expect(none.result.ok ? undefined : none.result.fact).toEqual({ state: 'shed', retryAfterMs: 1000 });
  });
  it('a failed home region is remembered: the next request goes to the other first; it comes back when well', async () => {
    const health = new RegionHealth(10_000);
    await choose({ r1: hang, r2: async () => ok('r2') }, health);
    expect(health.isDown('r1')).toBe(true);
    const next = await choose({ r1: async () => ok('r1'), r2: async () => ok('r2') }, health);
    expect(next).toMatchObject({ id: 'r2', reason: 'home-down', asked: ['r2'] });
    const expired = new RegionHealth(0);
    expired.markDown('r1');
    expect(await choose({ r1: async () => ok('r1'), r2: async () => ok('r2') }, expired)).toMatchObject({
      id: 'r1',
      reason: 'home',
    });
  });
  it('an answer not served is let go: the losing copy, and a home copy that comes after the deadline', async () => {
    const discarded: string[] = [];
    const ask = (answers: Record<string, () => Promise<OriginResult<Seg>>>) =>
      chooseAcrossRegions<Seg>({
        regions: ['r1', 'r2'],
        ask: (region) => answers[region](),
        defectsOf: (s) => s.defects,
        refusalIsFinal: () => false,
        deadlineAt: Date.now() + 30,
        regionTimeoutMs: 30,
        health: new RegionHealth(10_000),
        discard: (s) => discarded.push(s.id),
      });
    await ask({ r1: async () => ok('r1', ['short']), r2: async () => ok('r2') });
    expect(discarded).toEqual(['r1']);
    let arrive: (r: OriginResult<Seg>) => void = () => {};
    const late = new Promise<OriginResult<Seg>>((resolve) => (arrive = resolve));
    const chosen = await ask({ r1: () => late, r2: async () => ok('r2') });
    expect(chosen.reason).toBe('home-timeout');
    arrive(ok('r1-late'));
    await late;
    await new Promise((r) => setTimeout(r, 0));
    expect(discarded).toEqual(['r1', 'r1-late']);
  });
});
