import { describe, expect, it } from 'vitest';
import { AppError } from '../../contract/errors.ts';
import { parseWebVtt } from './webvtt-parse.ts';

const NOW = Date.UTC(2026, 5, 1);

function refusal(body: string): string {
  try {
    parseWebVtt(body, NOW);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('BAD_BODY');
    return (err as AppError).message;
  }
  throw new Error('expected BAD_BODY, the body was accepted');
}

describe('parseWebVtt: cue times stay on the epoch timeline a Date can hold', () => {
  // Found by the fuzzer: a cue ending at hour 2,400,000,001 parsed (a safe integer of ms) and the
  // origin's Date formatting of it threw, a 500.
  it('refuses a cue that ends after the last date a clock can show', () => {
    expect(refusal('WEBVTT\n\n00:00:00.000 --> 2400000001:00:00.000\nhi\n')).toBe(
      'WebVTT line 3: the cue is outside the epoch media timeline (from 1970 to the last date a clock can show)',
    );
    // 2,400,000,000 h is exactly the last Date: accepted.
    expect(parseWebVtt('WEBVTT\n\n2399999999:00:00.000 --> 2400000000:00:00.000\nhi\n', NOW)).toEqual([
      { startMs: 8.64e15 - 3_600_000, endMs: 8.64e15, text: 'hi' },
    ]);
  });

  it('refuses a cue that X-TIMESTAMP-MAP puts before 1970 or past the last date', () => {
    expect(
      refusal('WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:2400000001:00:00.000\n\n00:00.000 --> 00:01.000\nhi\n'),
    ).toMatch(/^WebVTT line 4: the cue is outside the epoch media timeline/);
    expect(
      refusal(
        'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:999999999999999,LOCAL:00:00:00.000\n\n2399999999:00:00.000 --> 2400000000:00:00.000\nhi\n',
      ),
    ).toMatch(/outside the epoch media timeline/);
  });
});
