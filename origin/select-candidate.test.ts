import { describe, expect, it } from 'vitest';
import { candidateHeader, selectCandidate } from './select-candidate.ts';

const c = (pipeline: string, defects: string[] = [], region = 'r1') => ({ pipeline, region, defects });

describe('selectCandidate', () => {
  it('prefers the first pipeline in order when both are clean', () => {
    expect(selectCandidate([c('B'), c('A')], ['A', 'B'])?.pipeline).toBe('A');
    expect(selectCandidate([c('A'), c('B')], ['B', 'A'])?.pipeline).toBe('B');
  });
  it('takes a clean candidate over a preferred defective one', () => {
    expect(selectCandidate([c('A', ['short']), c('B')], ['A', 'B'])?.pipeline).toBe('B');
  });
  it('takes the least defective when all are defective, ties by order', () => {
    expect(selectCandidate([c('A', ['short', 'tfdt-mismatch']), c('B', ['short'])], ['A', 'B'])?.pipeline).toBe('B');
    expect(selectCandidate([c('A', ['short']), c('B', ['empty'])], ['A', 'B'])?.pipeline).toBe('A');
  });
  it('puts unlisted pipelines last and prefers the local region on a tie', () => {
    expect(selectCandidate([c('C'), c('B')], ['A', 'B'])?.pipeline).toBe('B');
    expect(selectCandidate([c('A', [], 'r2'), c('A', [], 'r1')], ['A'], 'r1')?.region).toBe('r1');
    expect(selectCandidate([], ['A'])).toBeUndefined();
  });
  it('formats the x-candidate header', () => {
    expect(candidateHeader(c('A'))).toBe('pipeline=A; region=r1; defects=none');
    expect(candidateHeader(c('B', ['short', 'no-sync-start'], 'r2'))).toBe(
      'pipeline=B; region=r2; defects=short,no-sync-start',
    );
  });
});
