/**
 * Provisioning in the hub (docs/control-plane.md "Provisioning"), with a provisioner that records
 * what it is asked: a hub that restarts mid-event keeps its events and reattaches to the pipelines
 * that still run, starting only the missing one; a provisioner failure is a 502-coded result with a
 * timeline line, and the retry alarm starts what should run. Each test has a hub object of its own
 * (not the deployment's), so no other test's events are reconciled.
 */
import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { EventDefinition } from '../contract/control-plane.ts';
import { AppError } from '../contract/errors.ts';
import { randomEventId } from '../test/ingest-client.ts';
import { OrchestratorHub } from './hub.ts';
import type { PipelineSpec, Provisioner, RunningPipeline } from './provisioner.ts';

class RecordingProvisioner implements Provisioner {
  readonly kind = 'recording';
  readonly started: string[] = [];
  readonly stopped: string[] = [];
  readonly runs = new Set<string>();
  failing = false;
  async start(spec: PipelineSpec) {
    if (this.failing) throw new AppError('PROVISIONER_FAILED', 'local agent: connection refused');
    this.started.push(`${spec.event}/${spec.pipeline}`);
    this.runs.add(`${spec.event}/${spec.pipeline}`);
  }
  async stop(event: string, pipeline: string) {
    this.stopped.push(`${event}/${pipeline}`);
    this.runs.delete(`${event}/${pipeline}`);
  }
  async running(): Promise<RunningPipeline[]> {
    return [...this.runs].map((k) => ({ event: k.split('/')[0], pipeline: k.split('/')[1] }));
  }
}

const use = (hub: OrchestratorHub, p: Provisioner) => {
  (hub as unknown as { provisioner: Provisioner }).provisioner = p;
};
const ownHub = () => env.HUB.get(env.HUB.idFromName(randomEventId('hub')));

function timeline(hub: OrchestratorHub, event: string) {
  const r = hub.timeline(event);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

describe('hub provisioning', () => {
  it('a hub that restarts mid-event keeps its events and reattaches to running pipelines', async () => {
    const stub = ownHub();
    const event = randomEventId('reattach');
    const p = new RecordingProvisioner();
    await runInDurableObject(stub, async (hub: OrchestratorHub) => {
      use(hub, p);
      expect((await hub.createEvent(EventDefinition.parse({ id: event, test: true }))).ok).toBe(true);
      expect((await hub.operate(event, { op: 'start' })).ok).toBe(true);
    });
    expect(p.started).toEqual([`${event}/A`, `${event}/B`]);

    // While the hub was away, B's bridge died; A still runs.
    p.runs.delete(`${event}/B`);
    await runInDurableObject(stub, async (_old: OrchestratorHub, state) => {
      const restarted = new OrchestratorHub(state, env); // a new object over the same storage
      use(restarted, p);
      await restarted.alarm();
      const view = restarted.getEvent(event);
      expect(view.ok && view.value.desired).toEqual({ A: 'running', B: 'running' });
      const reattached = timeline(restarted, event).filter((e) => e.what === 'reattached');
      expect(reattached).toHaveLength(1);
      expect(reattached[0]).toMatchObject({
        who: 'schedule',
        detail: { provisioner: 'recording', reattached: ['A'], started: ['B'] },
      });
      // Reconciled once per construction: a later alarm does not start anything again.
      await restarted.alarm();
    });
    expect(p.started).toEqual([`${event}/A`, `${event}/B`, `${event}/B`]);
    expect(p.stopped).toEqual([]);
  });

  it('a provisioner failure is PROVISIONER_FAILED with a timeline line, and the retry starts what should run', async () => {
    const stub = ownHub();
    const event = randomEventId('provfail');
    const p = new RecordingProvisioner();
    p.failing = true;
    await runInDurableObject(stub, async (hub: OrchestratorHub) => {
      use(hub, p);
      expect((await hub.createEvent(EventDefinition.parse({ id: event }))).ok).toBe(true);
      const r = await hub.operate(event, { op: 'start-pipeline', pipeline: 'A' });
      expect(r.ok).toBe(false);
      expect(!r.ok && r.code).toBe('PROVISIONER_FAILED');
      const failed = timeline(hub, event).find((e) => e.what === 'start-pipeline failed');
      expect(failed).toMatchObject({ who: 'operator' });
      expect(JSON.stringify(failed?.detail)).toContain('connection refused');
      expect(await state(hub)).not.toBeNull(); // the retry alarm is armed

      p.failing = false;
      await hub.alarm();
      expect(p.started).toEqual([`${event}/A`]);
      expect(timeline(hub, event).at(-1)).toMatchObject({ what: 'reattached', detail: { started: ['A'] } });
    });
  });
});

const state = (hub: OrchestratorHub) => (hub as unknown as { ctx: DurableObjectState }).ctx.storage.getAlarm();
