import { DurableObject } from 'cloudflare:workers';
import {
  type AuditEntry,
  type EventDefinition,
  EventDefinition as EventDefinitionSchema,
  type EventDefinitionPatch,
  type EventPhase,
  type Operation,
} from '../contract/control-plane.ts';
import { defaultEventConfig, type EventConfigPatch } from '../contract/event-config.ts';
import { segmentNumberAt } from '../contract/epoch.ts';
import { mintToken } from '../contract/scoped-token.ts';
import { originFor } from '../edge/origin-stub.ts';
import { fail, ok, type OriginResult } from '../origin/result.ts';
import { AppError } from '../contract/errors.ts';
import { type DesiredState, EventStore, type StoredEvent } from './event-store.ts';
import { noProvisioner, type Provisioner, type RunningPipeline } from './provisioner.ts';
import { provisionerFor } from './provisioner-select.ts';
import { reconcilePlan } from './reconcile.ts';
import { dueActions, nextWake } from './schedule.ts';
import { HubMonitor } from './monitor.ts';
import type { Splice } from '../contract/splices.ts';
import type { Alert, EdgeReport } from '../contract/control-state.ts';
import type { EventStatusJson } from './event-status.ts';

/** What GET /api/events/{event} answers: the definition, where it is in its life, what should run. */
export interface EventView {
  definition: EventDefinition;
  phase: EventPhase;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  endedAt: string | null;
  /** Pipelines the hub wants running or stopped. */
  desired: Record<string, DesiredState>;
}

/** Who asked: `operator` (API, Control Room), `schedule` (the hub's alarm) or `alert`. */
export type Actor = 'operator' | 'schedule' | 'alert';

/**
 * The orchestrator hub (DESIGN §9): one Durable Object (`HUB.idFromName("hub")`) that owns event
 * definitions, schedules, and the audit timeline. It creates each event's origin objects (ingest
 * and players never can: edge/event-gate.ts), starts and stops pipelines through a provisioner at
 * start − lead and after the end, and applies live operations to every region's origin.
 * Everything it must remember across a restart is in SQLite (orchestrator/event-store.ts).
 */
export class OrchestratorHub extends DurableObject<Env> {
  protected readonly store: EventStore;
  protected provisioner: Provisioner = noProvisioner;

  /** Spokes, alerts, Control Room sessions, metrics (orchestrator/monitor.ts). */
  protected readonly monitor: HubMonitor;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new EventStore(ctx.storage.sql);
    this.monitor = new HubMonitor(ctx, env, this.store);
    this.provisioner = provisionerFor(env);
    // A hub that (re)starts with pipelines it wants running reconciles at once (its alarm):
    // reattach to those that still run, start only the missing ones.
    if (this.provisioner.kind !== 'none' && this.desiredRunning().length > 0)
      void ctx.blockConcurrencyWhile(() => ctx.storage.setAlarm(Date.now()));
  }

  /** After construction, the first alarm compares what should run with what runs (orchestrator/reconcile.ts). */
  protected reconciled = false;

  protected desiredRunning(): RunningPipeline[] {
    return this.store
      .list()
      .filter((e) => e.phase !== 'ended')
      .flatMap((e) =>
        Object.entries(this.store.desired(e.definition.id))
          .filter(([, d]) => d === 'running')
          .map(([pipeline]) => ({ event: e.definition.id, pipeline })),
      );
  }

  /** Reattach to running pipelines after a restart; start what should run but does not. False: try again later. */
  protected async reconcile(now: number): Promise<boolean> {
    if (this.provisioner.kind === 'none') return true;
    const desired = this.desiredRunning();
    if (desired.length === 0) return true;
    let running: RunningPipeline[];
    try {
      running = await this.provisioner.running(desired);
    } catch (err) {
      for (const event of new Set(desired.map((d) => d.event)))
        this.store.audit(event, 'schedule', 'reattach failed', { error: (err as Error).message }, now);
      return false;
    }
    const plan = reconcilePlan(desired, running, new Set(this.store.list().map((e) => e.definition.id)));
    let done = true;
    for (const event of new Set(desired.map((d) => d.event))) {
      const stored = this.store.get(event);
      if (!stored) continue;
      const reattached = plan.reattach.filter((p) => p.event === event).map((p) => p.pipeline);
      const missing = plan.start.filter((p) => p.event === event).map((p) => p.pipeline);
      let error: string | undefined;
      if (missing.length > 0) {
        try {
          await this.startPipelines(stored, missing, now);
        } catch (err) {
          error = (err as Error).message;
          done = false;
        }
      }
      this.store.audit(
        event,
        'schedule',
        'reattached',
        { provisioner: this.provisioner.kind, reattached, started: error ? [] : missing, error },
        now,
      );
    }
    for (const p of plan.stop) await this.provisioner.stop(p.event, p.pipeline).catch(() => {});
    return done;
  }

  // ---- events ---------------------------------------------------------------------------------

  /** Create an event: its origin objects in every region get its config (and DRM) before any ingest. */
  async createEvent(definition: EventDefinition, who: Actor = 'operator'): Promise<OriginResult<EventView>> {
    const now = Date.now();
    if (this.store.get(definition.id)) return fail('EVENT_EXISTS', `event ${definition.id} already exists`);
    // Origins first: if a region refuses (a DRM setting it rejects), nothing is recorded here.
    const applied = await this.applyToOrigins(definition);
    if (!applied.ok) return applied;
    if (!this.store.insert(definition, definition.schedule ? 'scheduled' : 'created', now))
      return fail('EVENT_EXISTS', `event ${definition.id} already exists`);
    this.store.audit(definition.id, who, 'created', definition, now);
    // A start that is already due (start − lead in the past, e.g. "now") runs at once.
    await this.armAlarm(this.dueNow(definition.id, now));
    return ok(this.view(definition.id)!);
  }

  listEvents(): EventView[] {
    return this.store.list().map((e) => toView(e, this.store.desired(e.definition.id)));
  }

  /** The event with its live status (EventStatus, contract/control-state.ts) as `status`. */
  getEvent(id: string): OriginResult<EventView & { status?: EventStatusJson }> {
    const view = this.view(id);
    const status = this.monitor.status(id) as EventStatusJson | undefined;
    return view
      ? ok({ ...view, status })
      : fail('EVENT_NOT_FOUND', `no event ${id}: create it first (POST /api/events)`);
  }

  /** Cheap existence check for the edge's gate (edge/event-gate.ts). */
  eventExists(id: string): boolean {
    return this.store.get(id) !== undefined;
  }

  async updateEvent(
    id: string,
    patch: EventDefinitionPatch,
    who: Actor = 'operator',
  ): Promise<OriginResult<EventView>> {
    const stored = this.store.get(id);
    if (!stored) return fail('EVENT_NOT_FOUND', `no event ${id}`);
    if (stored.phase === 'ended') return fail('EVENT_ENDED', `event ${id} has ended; create a new event`);
    const { next, ...rest } = patch;
    const merged = EventDefinitionSchema.safeParse({
      ...stored.definition,
      ...rest,
      ...(next === undefined ? {} : { next: next ?? undefined }),
    });
    if (!merged.success)
      return fail('BAD_BODY', merged.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const originPatch: EventConfigPatch = {};
    if (patch.dvrWindowSeconds !== undefined) originPatch.dvrWindowSeconds = patch.dvrWindowSeconds;
    if (patch.captions !== undefined) originPatch.captions = patch.captions;
    if (patch.playerTokens !== undefined) originPatch.playerTokens = patch.playerTokens;
    if (Object.keys(originPatch).length > 0) {
      const applied = await this.everyRegion(merged.data, (o) => o.updateConfig(originPatch));
      if (!applied.ok) return applied;
    }
    const now = Date.now();
    this.store.update(merged.data, now);
    if (patch.schedule && stored.phase === 'created') this.store.setPhase(id, 'scheduled', now);
    this.store.audit(id, who, 'updated', patch, now);
    await this.armAlarm(this.dueNow(id, now));
    return ok(this.view(id)!);
  }

  /** Delete a definition that is not running (end it or stop it first); its origins keep their DVR. */
  async deleteEvent(id: string, who: Actor = 'operator'): Promise<OriginResult<{ deleted: string }>> {
    const stored = this.store.get(id);
    if (!stored) return fail('EVENT_NOT_FOUND', `no event ${id}`);
    const running = Object.entries(this.store.desired(id)).filter(([, d]) => d === 'running');
    if (running.length > 0)
      return fail(
        'EVENT_RUNNING',
        `event ${id} has running pipelines (${running.map(([p]) => p).join(', ')}): stop or end it first`,
      );
    this.store.delete(id);
    this.store.audit(id, who, 'deleted', null, Date.now());
    return ok({ deleted: id });
  }

  timeline(id: string, limit?: number): OriginResult<AuditEntry[]> {
    if (!this.store.get(id) && this.store.timeline(id, 1).length === 0)
      return fail('EVENT_NOT_FOUND', `no event ${id}`);
    return ok(this.store.timeline(id, limit));
  }

  // ---- live operations ----------------------------------------------------------------------

  async operate(id: string, op: Operation, who: Actor = 'operator'): Promise<OriginResult<EventView>> {
    try {
      return await this.applyOperation(id, op, who);
    } catch (err) {
      // The provisioner refused or did not answer: a 502 for the operator, a line in the timeline.
      if (!(err instanceof AppError) || err.code !== 'PROVISIONER_FAILED') throw err;
      const now = Date.now();
      this.store.audit(id, who, `${op.op} failed`, { op, error: err.message }, now);
      this.reconciled = false; // the retry alarm starts what should run and does not
      await this.armAlarm(now + PROVISION_RETRY_MS);
      return fail(err.code, err.message);
    }
  }

  protected async applyOperation(id: string, op: Operation, who: Actor): Promise<OriginResult<EventView>> {
    const stored = this.store.get(id);
    if (!stored) return fail('EVENT_NOT_FOUND', `no event ${id}`);
    const def = stored.definition;
    if (stored.phase === 'ended') return fail('EVENT_ENDED', `event ${id} has ended`);
    if ('pipeline' in op && !def.pipelines.includes(op.pipeline))
      return fail('BAD_BODY', `pipeline: event ${id} has pipelines ${def.pipelines.join(', ')}, not ${op.pipeline}`);
    const now = Date.now();
    const d = defaultEventConfig.segmentDurationMs;
    switch (op.op) {
      case 'start':
        await this.startPipelines(stored, def.pipelines, now);
        break;
      case 'stop':
        await this.stopPipelines(def, def.pipelines, now);
        break;
      case 'start-pipeline':
        await this.startPipelines(stored, [op.pipeline], now);
        break;
      case 'stop-pipeline':
        await this.stopPipelines(def, [op.pipeline], now);
        break;
      case 'restart-pipeline':
        await this.stopPipelines(def, [op.pipeline], now);
        await this.startPipelines(stored, [op.pipeline], now);
        break;
      case 'mask-pipeline': {
        const fromK = segmentNumberAt(now, d);
        const r = await this.everyRegion(def, (o) => o.addMask({ pipeline: op.pipeline, fromK }));
        if (!r.ok) return r;
        break;
      }
      case 'unmask-pipeline': {
        const r = await this.everyRegion(def, async (o) => {
          const state = await o.eventState();
          if (!state.ok) return state;
          for (const mask of state.value.masks.filter((m) => m.pipeline === op.pipeline)) await o.removeMask(mask.id);
          return ok(null);
        });
        if (!r.ok) return r;
        break;
      }
      case 'prefer-pipeline': {
        const pipelines = [op.pipeline, ...def.pipelines.filter((p) => p !== op.pipeline)];
        const r = await this.everyRegion(def, (o) => o.updateConfig({ pipelines }));
        if (!r.ok) return r;
        this.store.update({ ...def, pipelines }, now);
        break;
      }
      case 'set-dvr-window': {
        const r = await this.everyRegion(def, (o) => o.updateConfig({ dvrWindowSeconds: op.dvrWindowSeconds }));
        if (!r.ok) return r;
        this.store.update({ ...def, dvrWindowSeconds: op.dvrWindowSeconds }, now);
        break;
      }
      case 'move-to-next': {
        if (op.event === id) return fail('BAD_BODY', 'event: the next event must be another event');
        if (!this.store.get(op.event)) return fail('EVENT_NOT_FOUND', `no event ${op.event}: create it first`);
        const atK = segmentNumberAt(now + op.inSeconds * 1000, d) + 1;
        const r = await this.everyRegion(def, (o) => o.scheduleNext({ event: op.event, atK }));
        if (!r.ok) return r;
        this.store.update({ ...def, next: op.event }, now);
        this.store.audit(id, who, op.op, { ...op, atK }, now);
        return ok(this.view(id)!);
      }
      case 'end': {
        const r = await this.endEvent(stored, now);
        if (!r.ok) return r;
        break;
      }
    }
    this.store.audit(id, who, op.op, op, now);
    await this.armAlarm();
    return ok(this.view(id)!);
  }

  // ---- ad breaks (contract/splices.ts) -------------------------------------------------------

  /**
   * Store an ad break in every region's origin. Both pipelines post each feed splice, and a
   * retried request posts it again: the origins keep it once (by id), and only the request that
   * added it writes a timeline entry.
   */
  async addSplice(id: string, splice: Splice): Promise<OriginResult<{ splice: Splice; added: boolean }>> {
    const stored = this.store.get(id);
    if (!stored) return fail('EVENT_NOT_FOUND', `no event ${id}`);
    if (stored.phase === 'ended') return fail('EVENT_ENDED', `event ${id} has ended`);
    const answers: { splice: Splice; added: boolean }[] = [];
    const r = await this.everyRegion(stored.definition, async (o) => {
      const put = await o.putSplice(splice);
      if (put.ok) answers.push(put.value);
      return put;
    });
    if (!r.ok) return r;
    if (answers.length === 0) return fail('INTERNAL', `event ${id} has no region`);
    // The first region's stored splice is the answer; added when any region did not have it yet.
    const answer = { splice: answers[0].splice, added: answers.some((a) => a.added) };
    if (answer.added) {
      const { scte35: _, ...detail } = answer.splice;
      this.store.audit(id, splice.source === 'feed' ? 'feed' : 'operator', 'splice', detail, Date.now());
    }
    return ok(answer);
  }

  // ---- schedule -------------------------------------------------------------------------------

  /** Start events at start − lead, end them at their end; then sleep until the next such moment. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    // Poll every region of starting and live events, chart, evaluate alerts (every POLL_MS).
    await this.monitor.tick().catch((err) => console.error('hub poll tick failed', err));
    // Only a poll was due: schedule actions and provisioning retries keep their own times (a failing
    // provisioner is retried every PROVISION_RETRY_MS, not at every poll).
    if (this.pollOnlyAlarm && now < this.scheduleDueAt) {
      await this.armAlarm(Number.isFinite(this.scheduleDueAt) ? this.scheduleDueAt : undefined);
      return;
    }
    let retry = false;
    if (!this.reconciled) {
      this.reconciled = await this.reconcile(now);
      retry = !this.reconciled;
    }
    for (const action of dueActions(this.store.list(), now)) {
      const stored = this.store.get(action.event);
      if (!stored) continue;
      try {
        if (action.kind === 'start') {
          await this.startPipelines(stored, stored.definition.pipelines, now);
          this.store.audit(action.event, 'schedule', 'start', { at: new Date(now).toISOString() }, now);
        } else {
          await this.endEvent(stored, now);
          this.store.audit(action.event, 'schedule', 'end', { at: new Date(now).toISOString() }, now);
        }
      } catch (err) {
        // One event's provisioning trouble must not stop the others; the next alarm tries again.
        this.store.audit(action.event, 'schedule', `${action.kind} failed`, { error: String(err) }, now);
        retry = true;
        this.reconciled = false;
      }
    }
    await this.armAlarm(retry ? now + PROVISION_RETRY_MS : undefined);
  }

  /** `now` when the event's start or end is already due (nextWake only looks ahead), else undefined. */
  protected dueNow(id: string, now: number): number | undefined {
    const stored = this.store.get(id);
    return stored && dueActions([stored], now).length > 0 ? now : undefined;
  }

  protected async armAlarm(extraWakeAt?: number): Promise<void> {
    const wake = nextWake(this.store.list(), Date.now());
    const due = [wake, extraWakeAt].filter((t): t is number => t !== undefined);
    this.scheduleDueAt = due.length > 0 ? Math.min(...due) : Number.POSITIVE_INFINITY;
    const tick = this.monitor.nextTickAt(Date.now());
    this.pollOnlyAlarm = tick !== undefined && tick < this.scheduleDueAt;
    const at = [...due, tick].filter((t): t is number => t !== undefined);
    if (at.length > 0) await this.ctx.storage.setAlarm(Math.min(...at));
  }

  /**
   * When the schedule or a provisioning retry next needs the alarm (armAlarm), and whether the
   * alarm armed is only a poll before that. In memory: after a restart the first alarm does everything.
   */
  protected scheduleDueAt = 0;
  protected pollOnlyAlarm = false;

  // ---- spokes, alerts, metrics (orchestrator/monitor.ts; docs/control-plane.md) -----------------

  /** A WebSocket upgrade the Worker verified (orchestrator/spoke-routes.ts): a bridge or a Control Room session. */
  override async fetch(request: Request): Promise<Response> {
    return this.monitor.accept(request);
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.monitor.message(ws, message);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    this.monitor.closed(ws, code, reason);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.monitor.closed(ws, 1011, 'socket error');
  }

  /** An edge isolate's counters (edge/edge-reports.ts). */
  reportEdge(report: EdgeReport): void {
    this.monitor.edgeReport(report);
  }

  thumbnail(event: string, pipeline: string): { bytes: ArrayBuffer; at: number } | undefined {
    return this.monitor.thumbnail(event, pipeline);
  }

  listAlerts(filter: { event?: string; state?: 'SET' | 'CLEARED'; limit?: number }): Alert[] {
    return this.monitor.alerts.list(filter);
  }

  alertWebhooks(): { urls: string[]; delivered: number; failed: number } {
    return { urls: this.monitor.alerts.webhooks(), ...this.monitor.webhookCounts };
  }

  setAlertWebhooks(urls: string[]): { urls: string[]; delivered: number; failed: number } {
    this.monitor.alerts.setWebhooks(urls);
    return this.alertWebhooks();
  }

  metrics(): string {
    return this.monitor.metrics();
  }

  // ---- internals ------------------------------------------------------------------------------

  protected view(id: string): EventView | undefined {
    const stored = this.store.get(id);
    return stored && toView(stored, this.store.desired(id));
  }

  protected async startPipelines(stored: StoredEvent, pipelines: string[], now: number): Promise<void> {
    const def = stored.definition;
    for (const pipeline of pipelines) {
      this.store.setDesired(def.id, pipeline, 'running', now);
      await this.provisioner.start({
        event: def.id,
        pipeline,
        definition: def,
        ingestToken: await mintToken(this.env.INGEST_TOKEN_KEY, { scope: 'ingest', event: def.id, pipeline }),
        captionsToken: await mintToken(this.env.INGEST_TOKEN_KEY, { scope: 'captions', event: def.id }),
      });
    }
    if (stored.phase === 'created' || stored.phase === 'scheduled') this.store.setPhase(def.id, 'starting', now);
  }

  protected async stopPipelines(def: EventDefinition, pipelines: string[], now: number): Promise<void> {
    for (const pipeline of pipelines) {
      this.store.setDesired(def.id, pipeline, 'stopped', now);
      await this.provisioner.stop(def.id, pipeline);
    }
  }

  protected async endEvent(stored: StoredEvent, now: number): Promise<OriginResult<null>> {
    const def = stored.definition;
    const d = defaultEventConfig.segmentDurationMs;
    if (def.next && this.store.get(def.next)) {
      // Viewers move on at the segment after the last one.
      const atK = segmentNumberAt(now, d) + 1;
      const r = await this.everyRegion(def, (o) => o.scheduleNext({ event: def.next!, atK }));
      if (!r.ok) return r;
    }
    const r = await this.everyRegion(def, (o) => o.endEvent({}));
    if (!r.ok && r.code !== 'EVENT_ENDED') return r;
    await this.stopPipelines(def, def.pipelines, now);
    this.store.setPhase(def.id, 'ended', now);
    return ok(null);
  }

  /** DRM first (it must precede every init), then the config; every region of the event. */
  protected async applyToOrigins(def: EventDefinition): Promise<OriginResult<null>> {
    if (def.drm) {
      const drm = def.drm;
      const r = await this.everyRegion(def, (o) => o.setDrm(drm));
      if (!r.ok) return r;
    }
    return this.everyRegion(def, (o) =>
      o.defineEvent(def.id, {
        dvrWindowSeconds: def.dvrWindowSeconds,
        captions: def.captions,
        pipelines: def.pipelines,
        playerTokens: def.playerTokens,
        // The part timing the origin holds part requests and LL-HLS playlists by.
        ...(def.partDurationMs ? { latency: { partDurationMs: def.partDurationMs } } : {}),
      }),
    );
  }

  /** Apply one change in every region of the event; the first refusal is the answer. */
  protected async everyRegion<T>(
    def: EventDefinition,
    call: (origin: ReturnType<typeof originFor>) => Promise<OriginResult<T>>,
  ): Promise<OriginResult<null>> {
    for (const region of def.regions) {
      const r = await call(originFor(this.env, def.id, region));
      if (!r.ok) return fail(r.code, `region ${region}: ${r.message}`);
    }
    return ok(null);
  }
}

/** After a failed start, stop or reattach, the hub's alarm tries again this much later. */
const PROVISION_RETRY_MS = 10_000;

function toView(e: StoredEvent, desired: Record<string, DesiredState>): EventView {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    definition: e.definition,
    phase: e.phase,
    createdAt: new Date(e.createdAt).toISOString(),
    updatedAt: new Date(e.updatedAt).toISOString(),
    startedAt: iso(e.startedAt),
    endedAt: iso(e.endedAt),
    desired,
  };
}
