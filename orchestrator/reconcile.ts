import type { RunningPipeline } from './provisioner.ts';

export interface ReconcilePlan {
  /** Desired running and running: the hub reattaches (nothing to start). */
  reattach: RunningPipeline[];
  /** Desired running but not running (the agent or the machine restarted too): start these. */
  start: RunningPipeline[];
  /** Running but not desired (stopped while the hub was away): stop these. */
  stop: RunningPipeline[];
}

const key = (p: RunningPipeline) => `${p.event}\u0000${p.pipeline}`;

/**
 * What a hub that just (re)started does about its pipelines (orchestrator/hub.ts reconcile): it
 * compares the pipelines its store wants running with what the provisioner says runs, and only
 * starts the missing ones; a pipeline of a known event that runs but should not is stopped.
 * Pipelines of events the hub does not know are left alone (another deployment's, or a bridge
 * someone runs by hand).
 */
export function reconcilePlan(
  desired: RunningPipeline[],
  running: RunningPipeline[],
  knownEvents: ReadonlySet<string>,
): ReconcilePlan {
  const runningKeys = new Set(running.map(key));
  const desiredKeys = new Set(desired.map(key));
  return {
    reattach: desired.filter((p) => runningKeys.has(key(p))),
    start: desired.filter((p) => !runningKeys.has(key(p))),
    stop: running.filter((p) => knownEvents.has(p.event) && !desiredKeys.has(key(p))),
  };
}
