import { describe, expect, it } from 'vitest';
import type { AppError } from '../contract/errors.ts';
import { parseIngestPath } from './ingest-path.ts';

function failure(rest: string): string {
  try {
    parseIngestPath(rest);
  } catch (e) {
    return `${(e as AppError).code}: ${(e as AppError).message}`;
  }
  return 'ok';
}

describe('parseIngestPath', () => {
  it('parses init and segment paths', () => {
    expect(parseIngestPath('ev-1/A/v540/init.mp4')).toEqual({
      event: 'ev-1',
      pipeline: 'A',
      track: 'v540',
      kind: 'init',
    });
    expect(parseIngestPath('ev-1/B/aen/884000123.m4s')).toEqual({
      event: 'ev-1',
      pipeline: 'B',
      track: 'aen',
      kind: 'segment',
      k: 884000123,
    });
    expect(parseIngestPath('ev-1/A/text-en/884000123.vtt')).toEqual({
      event: 'ev-1',
      pipeline: 'A',
      track: 'text-en',
      kind: 'captions',
      k: 884000123,
    });
  });
  it('names the part that is wrong and its rule', () => {
    expect(failure('Ev/A/v1/init.mp4')).toMatch(/^BAD_PATH: event "Ev" is invalid: event id:/);
    expect(failure('ev/a/v1/init.mp4')).toMatch(/pipeline "a" is invalid: pipeline id: one capital letter/);
    expect(failure('ev/A/V!/init.mp4')).toMatch(/track "V!" is invalid: track id/);
    expect(failure('ev/A/v1/12.ts')).toMatch(/file "12.ts" is invalid/);
    expect(failure('ev/A/v1/-3.m4s')).toMatch(/file "-3.m4s" is invalid/);
    expect(failure('ev/A/init.mp4')).toMatch(/got 3 parts/);
    expect(failure('ev/A/%2e%2e/init.mp4')).toMatch(/track "\.\." is invalid/);
  });
});
