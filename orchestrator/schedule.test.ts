import { describe, expect, it } from 'vitest';
import { EventDefinition } from '../contract/control-plane.ts';
import type { EventPhase } from '../contract/control-plane.ts';
import type { StoredEvent } from './event-store.ts';
import { dueActions, nextWake } from './schedule.ts';

const T = Date.parse('2026-12-02T10:00:00Z');
function event(
  id: string,
  phase: EventPhase,
  schedule?: { start: number; end?: number; leadSeconds?: number },
): StoredEvent {
  const definition = EventDefinition.parse({
    id,
    schedule: schedule && {
      start: new Date(schedule.start).toISOString(),
      end: schedule.end === undefined ? undefined : new Date(schedule.end).toISOString(),
      leadSeconds: schedule.leadSeconds,
    },
  });
  return { definition, phase, createdAt: 0, updatedAt: 0, startedAt: null, endedAt: null };
}

describe('the schedule', () => {
  it('starts a scheduled event at start − lead, not a moment before, and only once', () => {
    const e = event('a', 'scheduled', { start: T, leadSeconds: 30 });
    expect(dueActions([e], T - 30_001)).toEqual([]);
    expect(dueActions([e], T - 30_000)).toEqual([{ event: 'a', kind: 'start' }]);
    expect(dueActions([{ ...e, phase: 'starting' }], T)).toEqual([]);
  });

  it('ends an event at its end from any phase but ended, even one that never started', () => {
    const e = event('b', 'live', { start: T, end: T + 60_000 });
    expect(dueActions([e], T + 59_999)).toEqual([]);
    expect(dueActions([e], T + 60_000)).toEqual([{ event: 'b', kind: 'end' }]);
    expect(dueActions([{ ...e, phase: 'scheduled' }], T + 70_000)).toEqual([{ event: 'b', kind: 'end' }]);
    expect(dueActions([{ ...e, phase: 'ended' }], T + 70_000)).toEqual([]);
  });

  it('wakes at the earliest future start − lead or end, and not for events without a schedule', () => {
    const events = [
      event('c', 'scheduled', { start: T + 600_000, leadSeconds: 60 }),
      event('d', 'live', { start: T - 600_000, end: T + 120_000 }),
      event('e', 'created'),
      event('f', 'ended', { start: T - 600_000, end: T + 1000 }),
    ];
    expect(nextWake(events, T)).toBe(T + 120_000);
    expect(nextWake(events, T + 200_000)).toBe(T + 540_000);
    expect(nextWake([event('e', 'created')], T)).toBeUndefined();
  });
});
