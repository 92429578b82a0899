import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultEventConfig } from '../contract/event-config.ts';
import { LiveParts } from './live-parts.ts';

const config = defaultEventConfig; // D = 2 s, 0.5 s parts, pipelineDelayMs 1500
const D = config.segmentDurationMs;
const k = 900_000_000;
const host = { allowed: () => true, lastSegment: () => undefined };

/** A few microtask turns: enough for a woken hold to make its next check (fake timers keep the clock still). */
const settle = () => new Promise<void>((resolve) => queueMicrotask(resolve)).then(() => Promise.resolve());

describe('LiveParts.get: the part hold and its stop predicate', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    // 0.2 s into segment K: part 0 is held (until K's due time), part 0 of K + 2 is too far ahead.
    vi.setSystemTime(k * D + 200);
  });
  afterEach(() => vi.useRealTimers());

  it('404s a part more than one D ahead and 410s one at the end of its hold', async () => {
    const parts = new LiveParts(host);
    expect(await parts.get('v1', k + 2, 0, config)).toMatchObject({ ok: false, code: 'SEGMENT_NOT_YET_AVAILABLE' });
    const held = parts.get('v1', k, 0, config);
    await vi.advanceTimersByTimeAsync((k + 1) * D + config.pipelineDelayMs - Date.now());
    expect(await held).toMatchObject({ ok: false, code: 'SEGMENT_GONE' });
  });

  it("ends a hold with the predicate's answer at the first wake where it has one", async () => {
    const parts = new LiveParts(host);
    let storedWhole = false;
    const asked: boolean[] = [];
    const held = parts.get('v1', k, 0, config, () => {
      asked.push(storedWhole);
      return storedWhole ? ('whole' as const) : undefined;
    });
    let answer: unknown;
    held.then((r) => (answer = r));
    await settle();
    // Asked once before holding; a wake without news keeps holding.
    expect(asked).toEqual([false]);
    parts.segmentStored();
    await settle();
    expect(asked).toEqual([false, false]);
    expect(answer).toBeUndefined();
    // The segment is stored: the next wake answers at once, long before the hold would end.
    storedWhole = true;
    parts.segmentStored();
    expect(await held).toEqual({ ok: true, value: 'whole' });
    expect(Date.now()).toBe(k * D + 200);
  });

  it('asks the predicate before anything else: it decides even for a part too far ahead', async () => {
    const parts = new LiveParts(host);
    expect(await parts.get('v1', k + 2, 0, config, () => 'whole' as const)).toEqual({ ok: true, value: 'whole' });
  });
});
