import {
  type Alert,
  BridgeReport,
  type EdgeReport,
  type EventStatus,
  type WatchMessage,
} from '../contract/control-state.ts';
import { AppError } from '../contract/errors.ts';
import { originFor } from '../edge/origin-stub.ts';
import { errorResponse } from '../edge/http-errors.ts';
import type { EventStateView } from '../origin/event-origin.ts';
import { AlertStore, diffAlerts, evaluateRules, INPUT_SILENCE_MS } from './alerts.ts';
import { buildEventStatus, buildPipelineStatus, ruleInputFor } from './event-status.ts';
import type { DesiredState, EventStore, StoredEvent } from './event-store.ts';
import { formatMetrics } from './metrics.ts';
import { MAX_THUMBNAIL_BYTES, Spokes } from './spokes.ts';

/**
 * The hub's side of "spokes report, the hub knows" (docs/control-plane.md "State and spokes",
 * "Alerts", "Metrics"), kept out of orchestrator/hub.ts, which delegates to it:
 * - WebSockets with the hibernation API: bridges (`bridge`, `bridge:{event}:{pipeline}` tags) send
 *   BridgeReport JSON and JPEG thumbnails; Control Room sessions (`watch`) receive snapshots at
 *   most once a second when something changed, each bridge report at once as a `pipeline` message,
 *   and every alert as it is SET or CLEARED.
 *   `ping` is answered `pong` without waking the hub.
 * - A poll tick (every POLL_MS while an event is starting or live, on the hub's alarm) asks each
 *   region's origin for its state, pushes a chart point and evaluates the alert rules.
 * - Edge isolates' counters (edge/edge-reports.ts) arrive by RPC.
 */
export const POLL_MS = 2000;
/** A poll of an origin that takes longer than this counts as failed. */
const POLL_TIMEOUT_MS = 1500;
const PUSH_INTERVAL_MS = 1000;
const WEBHOOK_TIMEOUT_MS = 5000;
/** Alerts of an event listed in its status: the SET ones and the newest CLEARED, this many in all at most. */
const STATUS_ALERTS = 50;
const STATUS_TIMELINE = 50;
/** Ended events stay in Control Room snapshots this long. */
const ENDED_VISIBLE_MS = 3600_000;

type Attachment = { kind: 'bridge'; event: string; pipeline: string } | { kind: 'watch' };

const active = (e: StoredEvent) => e.phase === 'starting' || e.phase === 'live';

export class HubMonitor {
  readonly spokes = new Spokes();
  readonly alerts: AlertStore;
  readonly webhookCounts = { delivered: 0, failed: 0 };
  private readonly startedAt = Date.now();
  private lastPush = 0;
  private pushTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly ctx: DurableObjectState;
  private readonly env: Env;
  private readonly store: EventStore;

  constructor(ctx: DurableObjectState, env: Env, store: EventStore) {
    this.ctx = ctx;
    this.env = env;
    this.store = store;
    this.alerts = new AlertStore(ctx.storage.sql);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
  }

  // ---- WebSockets -----------------------------------------------------------------------------

  /**
   * An upgrade the Worker forwarded (orchestrator/spoke-routes.ts) after checking the caller: for
   * `/api/hub/spoke` the verified event and pipeline are in `x-hub-event` / `x-hub-pipeline`.
   */
  accept(request: Request): Response {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket')
      return errorResponse(new AppError('WEBSOCKET_REQUIRED', 'send Upgrade: websocket'));
    const path = new URL(request.url).pathname;
    let tags: string[];
    let attachment: Attachment;
    if (path === '/api/hub/spoke') {
      const event = request.headers.get('x-hub-event') ?? '';
      const pipeline = request.headers.get('x-hub-pipeline') ?? '';
      const stored = this.store.get(event);
      if (!stored)
        return errorResponse(new AppError('EVENT_NOT_CREATED', `no event ${event}: an operator creates it first`));
      if (!stored.definition.pipelines.includes(pipeline))
        return errorResponse(
          new AppError(
            'FORBIDDEN',
            `event ${event} has pipelines ${stored.definition.pipelines.join(', ')}, not ${pipeline}`,
          ),
        );
      tags = ['bridge', `bridge:${event}:${pipeline}`];
      attachment = { kind: 'bridge', event, pipeline };
    } else if (path === '/api/hub/watch') {
      tags = ['watch'];
      attachment = { kind: 'watch' };
    } else return errorResponse(new AppError('ROUTE_NOT_FOUND', `the hub has no WebSocket at ${path}`));
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server, tags);
    server.serializeAttachment(attachment);
    if (attachment.kind === 'watch') server.send(JSON.stringify(this.snapshot()));
    else this.changed();
    return new Response(null, { status: 101, webSocket: client });
  }

  async message(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const who = ws.deserializeAttachment() as Attachment | null;
    // Control Room sessions have nothing to say (their pings are answered without waking us).
    if (who?.kind !== 'bridge') return;
    if (typeof message !== 'string') {
      if (message.byteLength > MAX_THUMBNAIL_BYTES)
        return close(ws, 1009, `a thumbnail is at most ${MAX_THUMBNAIL_BYTES} bytes`);
      const b = new Uint8Array(message, 0, Math.min(3, message.byteLength));
      if (b.length < 3 || b[0] !== 0xff || b[1] !== 0xd8 || b[2] !== 0xff)
        return close(ws, 1003, 'a binary message is a JPEG thumbnail (FF D8 FF)');
      this.spokes.for(who.event).recordThumbnail(who.pipeline, message, Date.now());
      this.changed();
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      return close(ws, 1007, 'a text message is BridgeReport JSON');
    }
    const report = BridgeReport.safeParse(parsed);
    if (!report.success)
      return close(
        ws,
        1008,
        `not a BridgeReport: ${report.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    if (report.data.event !== who.event || report.data.pipeline !== who.pipeline)
      return close(
        ws,
        1008,
        `this socket reports ${who.event}/${who.pipeline}, not ${report.data.event}/${report.data.pipeline}`,
      );
    this.bridgeReport(report.data);
  }

  closed(ws: WebSocket, code: number, reason: string): void {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
    const who = ws.deserializeAttachment() as Attachment | null;
    if (who?.kind === 'bridge') this.changed();
  }

  private bridgeReport(report: BridgeReport): void {
    const now = Date.now();
    let stored = this.store.get(report.event);
    if (!stored) return;
    const previous = this.spokes.for(report.event).recordBridge(report, now);
    if (stored.phase === 'starting' && report.state === 'encoding' && report.lastK !== null) {
      this.store.setPhase(report.event, 'live', now);
      this.store.audit(report.event, 'hub', 'live', { pipeline: report.pipeline, lastK: report.lastK }, now);
      stored = this.store.get(report.event) ?? stored;
    }
    // The input came or went, or the bridge was silent: the input-lost rule may change its mind now.
    if (
      !previous ||
      previous.report.inputPresent !== report.inputPresent ||
      previous.report.state !== report.state ||
      now - previous.receivedAt > INPUT_SILENCE_MS
    )
      this.evaluate(stored, now);
    this.pushPipeline(report.event, report.pipeline);
    this.changed();
  }

  /**
   * A report reaches Control Room sessions at once as its own small message: snapshots carry every
   * event and go out at most every PUSH_INTERVAL_MS, which alone would hold a report back up to that
   * long (bench/hub-fanout.ts).
   */
  private pushPipeline(event: string, pipeline: string): void {
    const sockets = this.ctx.getWebSockets('watch');
    if (sockets.length === 0) return;
    const status = buildPipelineStatus(pipeline, {
      desired: this.store.desired(event),
      spokes: this.spokes.peek(event),
      connected: new Set([pipeline]),
    });
    const message: WatchMessage = { type: 'pipeline', event, status };
    const text = JSON.stringify(message);
    for (const ws of sockets) {
      try {
        ws.send(text);
      } catch {
        // A session that went away.
      }
    }
  }

  // ---- edge, thumbnails -----------------------------------------------------------------------

  edgeReport(report: EdgeReport): void {
    if (typeof report?.event !== 'string' || !this.store.get(report.event)) return;
    this.spokes.for(report.event).recordEdge(report, Date.now());
    this.changed();
  }

  thumbnail(event: string, pipeline: string): { bytes: ArrayBuffer; at: number } | undefined {
    return this.spokes.peek(event)?.thumbnails.get(pipeline);
  }

  // ---- the poll tick --------------------------------------------------------------------------

  /** When the next poll is due: POLL_MS from now while any event is starting or live. */
  nextTickAt(now: number): number | undefined {
    return this.store.list().some(active) ? now + POLL_MS : undefined;
  }

  async tick(): Promise<void> {
    const events = this.store.list();
    this.spokes.keepOnly(new Set(events.map((e) => e.definition.id)));
    const watched = events.filter(active);
    await Promise.all(watched.flatMap((e) => e.definition.regions.map((region) => this.poll(e.definition.id, region))));
    const now = Date.now();
    for (const e of events) {
      const stored = this.store.get(e.definition.id);
      if (!stored) continue;
      if (active(stored)) {
        this.spokes.for(stored.definition.id).pushSeries(now, stored.definition.pipelines);
        this.evaluate(stored, now);
      } else if (this.alerts.active(stored.definition.id).length > 0) this.evaluate(stored, now);
    }
    if (watched.length > 0) this.changed();
  }

  private async poll(event: string, region: string): Promise<void> {
    let state: EventStateView | 'no-state' | undefined;
    try {
      const answer = await Promise.race([
        originFor(this.env, event, region).eventState(),
        new Promise<undefined>((resolve) => setTimeout(resolve, POLL_TIMEOUT_MS)),
      ]);
      // An origin that answers without a state (no config yet) is reachable.
      state = answer === undefined ? undefined : answer.ok ? (answer.value as EventStateView) : 'no-state';
    } catch {
      state = undefined;
    }
    this.spokes.for(event).recordRegionPoll(region, state, Date.now());
  }

  // ---- alerts ---------------------------------------------------------------------------------

  /** Evaluate the rules of one event: open what newly holds, clear what no longer does. */
  evaluate(stored: StoredEvent, now: number): void {
    const id = stored.definition.id;
    const conditions = active(stored)
      ? evaluateRules(ruleInputFor(stored, this.desiredSince(id), this.spokes.peek(id), this.startedAt, now))
      : [];
    const { set, cleared } = diffAlerts(this.alerts.active(id), conditions);
    for (const c of set) {
      const alert = this.alerts.set(id, c, now);
      this.store.audit(
        id,
        'alert',
        'alert',
        { state: 'SET', rule: c.rule, subject: c.subject, message: c.message },
        now,
      );
      this.announce(alert);
    }
    for (const a of cleared)
      for (const alert of this.alerts.clear(id, a.rule, a.subject, now)) {
        this.store.audit(id, 'alert', 'alert', { state: 'CLEARED', rule: a.rule, subject: a.subject }, now);
        this.announce(alert);
      }
  }

  private desiredSince(event: string): Record<string, { desired: DesiredState; since: number }> {
    const out: Record<string, { desired: DesiredState; since: number }> = {};
    for (const row of this.ctx.storage.sql.exec<{ pipeline: string; desired: DesiredState; updated_at: number }>(
      'SELECT pipeline, desired, updated_at FROM pipelines WHERE event = ?',
      event,
    ))
      out[row.pipeline] = { desired: row.desired, since: row.updated_at };
    return out;
  }

  /** To Control Room sessions at once, and to every webhook (never waited for). */
  private announce(alert: Alert): void {
    const message: WatchMessage = { type: 'alert', alert };
    const text = JSON.stringify(message);
    for (const ws of this.ctx.getWebSockets('watch')) {
      try {
        ws.send(text);
      } catch {
        // A session that went away.
      }
    }
    for (const url of this.alerts.webhooks()) {
      const delivery = fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'live-origin-shield-hub' },
        body: text,
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      })
        .then(async (res) => {
          if (res.ok) this.webhookCounts.delivered++;
          else this.webhookCounts.failed++;
          await res.body?.cancel();
        })
        .catch(() => {
          this.webhookCounts.failed++;
        });
      this.ctx.waitUntil(delivery);
    }
    this.changed();
  }

  // ---- status, snapshots, metrics -------------------------------------------------------------

  status(id: string, now = Date.now()): EventStatus | undefined {
    const stored = this.store.get(id);
    if (!stored) return undefined;
    const setAlerts = this.alerts.active(id);
    const history = this.alerts
      .list({ event: id, state: 'CLEARED', limit: Math.max(0, STATUS_ALERTS - setAlerts.length) })
      .reverse();
    return buildEventStatus({
      stored,
      desired: this.store.desired(id),
      spokes: this.spokes.peek(id),
      connected: new Set(
        stored.definition.pipelines.filter((p) => this.ctx.getWebSockets(`bridge:${id}:${p}`).length > 0),
      ),
      alerts: [...setAlerts, ...history],
      timeline: this.store.timeline(id, STATUS_TIMELINE),
      now,
    });
  }

  /** Every event but those that ended over ENDED_VISIBLE_MS ago: what snapshots and /metrics show. */
  private visibleEvents(now: number): StoredEvent[] {
    return this.store.list().filter((e) => e.phase !== 'ended' || (e.endedAt ?? 0) > now - ENDED_VISIBLE_MS);
  }

  snapshot(): WatchMessage {
    const now = Date.now();
    const events = this.visibleEvents(now)
      .map((e) => this.status(e.definition.id, now))
      .filter((s): s is EventStatus => s !== undefined);
    return { type: 'snapshot', at: new Date(now).toISOString(), events };
  }

  /** Something a Control Room session shows changed: a snapshot now, or once PUSH_INTERVAL_MS has passed. */
  changed(): void {
    if (this.pushTimer !== undefined || this.ctx.getWebSockets('watch').length === 0) return;
    const wait = this.lastPush + PUSH_INTERVAL_MS - Date.now();
    if (wait <= 0) this.push();
    else
      this.pushTimer = setTimeout(() => {
        this.pushTimer = undefined;
        this.push();
      }, wait);
  }

  private push(): void {
    this.lastPush = Date.now();
    const sockets = this.ctx.getWebSockets('watch');
    if (sockets.length === 0) return;
    const text = JSON.stringify(this.snapshot());
    for (const ws of sockets) {
      try {
        ws.send(text);
      } catch {
        // A session that went away.
      }
    }
  }

  metrics(): string {
    const now = Date.now();
    const visible = this.visibleEvents(now);
    const ids = new Set(visible.map((e) => e.definition.id));
    return formatMetrics({
      events: visible
        .map((e) => ({
          status: this.status(e.definition.id, now),
          edgeTotals: this.spokes.peek(e.definition.id)?.edgeTotals,
        }))
        .filter((e): e is { status: EventStatus; edgeTotals: typeof e.edgeTotals } => e.status !== undefined),
      alerts: this.alerts.latestPerSubject().filter((a) => ids.has(a.event)),
      webhooks: this.webhookCounts,
    });
  }
}

/** Close with a reason that fits a close frame (123 bytes). */
function close(ws: WebSocket, code: number, reason: string): void {
  const bytes = new TextEncoder().encode(reason);
  const fitted =
    bytes.length <= 123 ? reason : `${new TextDecoder().decode(bytes.slice(0, 119)).replace(/\uFFFD$/, '')}…`;
  try {
    ws.close(code, fitted);
  } catch {
    // Already closed.
  }
}
