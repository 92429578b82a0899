import { describe, expect, it } from 'vitest';
import { parseDefects } from './ingest-route.ts';

describe('parseDefects (x-segment-defects)', () => {
  it('splits, trims, lowercases and deduplicates', () => {
    expect(parseDefects(undefined)).toEqual([]);
    expect(parseDefects('none')).toEqual([]);
    expect(parseDefects(' short, Freeze ,short')).toEqual(['short', 'freeze']);
  });
  it('rejects tokens outside the header grammar', () => {
    expect(() => parseDefects('short; drop table')).toThrow(/x-segment-defects/);
  });
});
