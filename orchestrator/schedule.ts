import type { StoredEvent } from './event-store.ts';

/**
 * The schedule as pure functions of the stored events and the clock, so the hub's alarm is
 * testable without waiting: an event starts at start − lead (once: only from `scheduled`), and
 * ends at its end (from any phase but `ended`).
 */
export interface DueAction {
  event: string;
  kind: 'start' | 'end';
}

export function startAt(e: StoredEvent): number | undefined {
  const s = e.definition.schedule;
  return s ? Date.parse(s.start) - s.leadSeconds * 1000 : undefined;
}

export function endAt(e: StoredEvent): number | undefined {
  const end = e.definition.schedule?.end;
  return end === undefined ? undefined : Date.parse(end);
}

export function dueActions(events: StoredEvent[], now: number): DueAction[] {
  const out: DueAction[] = [];
  for (const e of events) {
    if (e.phase === 'ended') continue;
    const end = endAt(e);
    if (end !== undefined && end <= now) {
      out.push({ event: e.definition.id, kind: 'end' });
      continue;
    }
    const start = startAt(e);
    if (e.phase === 'scheduled' && start !== undefined && start <= now)
      out.push({ event: e.definition.id, kind: 'start' });
  }
  return out;
}

/** The earliest future moment something is due, or undefined when nothing is scheduled. */
export function nextWake(events: StoredEvent[], now: number): number | undefined {
  let wake: number | undefined;
  const consider = (t: number | undefined) => {
    if (t !== undefined && t > now && (wake === undefined || t < wake)) wake = t;
  };
  for (const e of events) {
    if (e.phase === 'ended') continue;
    if (e.phase === 'scheduled') consider(startAt(e));
    consider(endAt(e));
  }
  return wake;
}
