import type { MiddlewareHandler } from 'hono';
import type { EdgeReport } from '../contract/control-state.ts';
import { hubFor } from '../orchestrator/hub-stub.ts';
import { isKnownCreatedEvent } from './event-gate.ts';
import type { AppEnv } from './route-handler.ts';

/** An isolate reports an event's counters to the hub at most this often. */
export const EDGE_REPORT_INTERVAL_MS = 5000;
/** At most this many events with unreported counts per isolate; requests of others are not counted. */
const MAX_EVENTS = 256;

type Counts = Omit<EdgeReport, 'kind' | 'event' | 'at'>;

/**
 * What this edge isolate answered on /live per event since its last report to the hub
 * (docs/control-plane.md "State and spokes"): requests, cache hits (`x-cache` hot, shared, stale
 * or coalesced: no origin request of its own), 4xx, 5xx and sheds (503 OVERLOADED, here or at the
 * origin). Added up in memory; one RPC per event and isolate every EDGE_REPORT_INTERVAL_MS at most,
 * as edge/cmcd-reports.ts does for the origin.
 */
export class EdgeTally {
  private readonly pending = new Map<string, Counts>();
  private readonly lastReport = new Map<string, number>();
  dropped = 0;

  record(event: string, status: number, cacheSource: string | null): void {
    let c = this.pending.get(event);
    if (!c) {
      if (this.pending.size >= MAX_EVENTS) {
        this.dropped++;
        return;
      }
      c = { requests: 0, cacheHits: 0, status4xx: 0, status5xx: 0, sheds: 0 };
      this.pending.set(event, c);
    }
    c.requests++;
    if (cacheSource === 'hot' || cacheSource === 'shared' || cacheSource === 'stale' || cacheSource === 'coalesced')
      c.cacheHits++;
    if (status >= 400 && status < 500) c.status4xx++;
    if (status >= 500) c.status5xx++;
    if (cacheSource === 'shed' || status === 503) c.sheds++;
  }

  /** The event's counts to report now, or undefined (nothing new, or reported less than the interval ago). */
  take(event: string, now: number, force = false): EdgeReport | undefined {
    const c = this.pending.get(event);
    if (!c) return undefined;
    if (!force && now - (this.lastReport.get(event) ?? Number.NEGATIVE_INFINITY) < EDGE_REPORT_INTERVAL_MS)
      return undefined;
    this.pending.delete(event);
    this.lastReport.delete(event);
    this.lastReport.set(event, now);
    if (this.lastReport.size > MAX_EVENTS) this.lastReport.delete(this.lastReport.keys().next().value!);
    return { kind: 'edge', event, at: now, ...c };
  }
}

export const edgeTally = new EdgeTally();

/** Count every /live answer of a created event; send the counts to the hub after the response. */
export const countEdge: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const event = c.req.path.split('/')[2];
  // Only events the gate knows were created: a made-up name never becomes a counter or an RPC.
  if (!event || !isKnownCreatedEvent(event)) return;
  edgeTally.record(event, c.res.status, c.res.headers.get('x-cache'));
  const report = edgeTally.take(event, Date.now());
  if (report)
    c.executionCtx.waitUntil(
      hubFor(c.env)
        .reportEdge(report)
        .catch(() => undefined),
    );
};
