import type { EventDefinition } from '../contract/control-plane.ts';

/**
 * How the hub gets encoder-bridge pipelines running (DESIGN §9). One interface, chosen by the
 * PROVISIONER var (wrangler.toml): `local` asks the local agent (scripts/provision-agent.ts) to
 * spawn bridge processes; `containers` starts one Cloudflare Container per (event, pipeline);
 * `none` starts nothing (pipelines are run by hand, as before the control plane existed).
 */
export interface PipelineSpec {
  event: string;
  pipeline: string;
  /** The definition the bridge is configured from: A and B get the same one. */
  definition: EventDefinition;
  /** Scoped contribution tokens the hub minted for this (event, pipeline). */
  ingestToken: string;
  captionsToken: string;
}

export interface RunningPipeline {
  event: string;
  pipeline: string;
}

export interface Provisioner {
  readonly kind: string;
  start(spec: PipelineSpec): Promise<void>;
  stop(event: string, pipeline: string): Promise<void>;
  /**
   * What runs now: after a restart the hub reattaches to these instead of starting them again.
   * `candidates` are the pipelines the hub wants running: a provisioner that cannot list what it
   * runs (Cloudflare Containers) asks each of them; the local agent lists its own.
   */
  running(candidates?: RunningPipeline[]): Promise<RunningPipeline[]>;
}

/** PROVISIONER = "none": the hub records what it wants and starts nothing. */
export const noProvisioner: Provisioner = {
  kind: 'none',
  async start() {},
  async stop() {},
  async running() {
    return [];
  },
};
