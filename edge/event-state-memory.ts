import { parseEventState, type EventStateSummary } from '../contract/event-state.ts';

/**
 * The latest x-event-state this edge isolate has seen per event (DESIGN §5: "the latest pipeline
 * state travels as a cumulative metadata header that the edge keeps per event"). In memory only:
 * it is a cache of what the origin says, rebuilt by the next response after an isolate restart.
 * The origin's `t` orders the states, so a slow response never overwrites a newer state.
 */
export interface RememberedState {
  header: string;
  state: EventStateSummary;
  /** When this isolate received it. */
  seenAt: number;
}

const MAX_EVENTS = 1000;
const latest = new Map<string, RememberedState>();

export function rememberEventState(event: string, header: string | null): void {
  const state = parseEventState(header);
  if (!state || !header) return;
  const known = latest.get(event);
  if (known && known.state.t > state.t) return;
  latest.delete(event);
  latest.set(event, { header, state, seenAt: Date.now() });
  // Oldest-touched first in a Map: keep memory bounded however many events pass through.
  if (latest.size > MAX_EVENTS) latest.delete(latest.keys().next().value!);
}

export function rememberedEventState(event: string): RememberedState | undefined {
  return latest.get(event);
}
