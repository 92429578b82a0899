import { describe, expect, it } from 'vitest';
import { formatEventState, parseEventState, type EventStateSummary } from './event-state.ts';

describe('x-event-state', () => {
  const state: EventStateSummary = {
    version: 3,
    ended: false,
    t: 1_770_000_000_123,
    pipelines: [
      { pipeline: 'A', status: 'ok', lastK: 885_000_001, latenessMs: 412, defective: 0 },
      { pipeline: 'B', status: 'down', lastK: 884_999_990, latenessMs: -20, defective: 4 },
    ],
  };

  it('is a compact structured-field dictionary', () => {
    expect(formatEventState(state)).toBe(
      'v=3, ended=?0, t=1770000000123, A=ok;k=885000001;late=412;def=0, B=down;k=884999990;late=-20;def=4',
    );
  });

  it('round-trips, and rejects what it did not write', () => {
    expect(parseEventState(formatEventState(state))).toEqual(state);
    expect(parseEventState(formatEventState({ ...state, ended: true, pipelines: [] }))).toMatchObject({
      ended: true,
      pipelines: [],
    });
    expect(parseEventState('garbage')).toBeUndefined();
    expect(parseEventState('v=1, A=weird;k=1')).toBeUndefined();
    expect(parseEventState(null)).toBeUndefined();
  });

  it('says tok=?1 only for an event that requires player tokens', () => {
    const header = formatEventState({ ...state, tokens: true, pipelines: [] });
    expect(header).toBe('v=3, ended=?0, t=1770000000123, tok=?1');
    expect(parseEventState(header)?.tokens).toBe(true);
    expect(formatEventState({ ...state, tokens: false })).not.toContain('tok');
  });
});
