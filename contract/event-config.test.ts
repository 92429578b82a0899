import { describe, expect, it } from 'vitest';
import { EventConfigPatch } from './event-config.ts';

describe('EventConfigPatch', () => {
  it('keeps absent fields absent (no defaults filled in) and rejects empty, unknown or fixed fields', () => {
    expect(EventConfigPatch.parse({ pipelines: ['B', 'A'] })).toEqual({ pipelines: ['B', 'A'] });
    expect(EventConfigPatch.parse({ playerTokens: 'required' })).toEqual({ playerTokens: 'required' });
    for (const bad of [
      {},
      { typo: 1 },
      { segmentDurationMs: 4000 },
      { pipelines: ['A', 'A'] },
      { dvrWindowSeconds: 5 },
      { playerTokens: 'yes' },
    ]) {
      expect(EventConfigPatch.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
