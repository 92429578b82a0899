import { describe, expect, it } from 'vitest';
import { originFor, regionsFor } from './origin-stub.ts';

const env = (vars: Partial<Env>) => ({ REGION: 'r1', REGIONS: 'r1,r2,r3', ...vars }) as Env;
const from = (continent?: string) => Object.assign(new Request('https://edge.example/'), { cf: { continent } });

describe('production placement', () => {
  it('the home region follows the continent a player connects from, the others follow it', () => {
    const e = env({ REGION_BY_CONTINENT: 'EU=r1,NA=r2,AS=r3' });
    expect(regionsFor(e, from('NA'))).toEqual(['r2', 'r1', 'r3']);
    expect(regionsFor(e, from('EU'))).toEqual(['r1', 'r2', 'r3']);
    expect(regionsFor(e, from('OC'))).toEqual(['r1', 'r2', 'r3']);
    expect(regionsFor(env({}), from('NA'))).toEqual(['r1', 'r2', 'r3']);
    expect(regionsFor(env({ REGION_BY_CONTINENT: 'NA=r9' }), from('NA'))).toEqual(['r1', 'r2', 'r3']);
  });

  it("each region's objects are created with its location hint", () => {
    const calls: unknown[] = [];
    const ns = {
      idFromName: (name: string) => name,
      get: (...args: unknown[]) => calls.push(args),
    };
    const e = env({ REGION_LOCATION_HINTS: 'r1=weur,r2=enam', EVENT_ORIGIN: ns as never });
    originFor(e, 'demo', 'r2');
    originFor(e, 'demo', 'r3');
    expect(calls).toEqual([['demo:r2', { locationHint: 'enam' }], ['demo:r3']]);
  });
});
