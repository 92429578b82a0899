import { AppError } from '../contract/errors.ts';
import type { EncoderBridge } from './encoder-bridge-container.ts';
import type { PipelineSpec, Provisioner, RunningPipeline } from './provisioner.ts';
import { bridgeSettings } from './bridge-settings.ts';

/** The production environment's extra bindings (wrangler.toml [env.production]). */
export interface ContainersEnv {
  /** Durable Object namespace of the EncoderBridge container class. */
  ENCODER_BRIDGE?: DurableObjectNamespace<EncoderBridge>;
  /** The Worker's public base URL: where container bridges publish and report (https://live.example.com). */
  PUBLIC_URL?: string;
}

/** One instance per (event, pipeline): A and B of an event never share a container. */
export const containerName = (event: string, pipeline: string) => `${event}:${pipeline}`;

/**
 * PROVISIONER = "containers": one Cloudflare Container per (event, pipeline)
 * (orchestrator/encoder-bridge-container.ts), started with the bridge's settings as environment
 * variables, derived from the event definition exactly as the local agent derives its flags
 * (orchestrator/bridge-settings.ts). Failures are AppError PROVISIONER_FAILED.
 */
export function containersProvisioner(env: Env & ContainersEnv): Provisioner {
  const ns = env.ENCODER_BRIDGE;
  const base = env.PUBLIC_URL?.replace(/\/$/, '');
  const instance = (event: string, pipeline: string) => {
    if (!ns) throw new AppError('PROVISIONER_FAILED', 'PROVISIONER=containers needs the ENCODER_BRIDGE binding');
    return ns.getByName(containerName(event, pipeline));
  };
  const failed = (what: string, err: unknown) =>
    err instanceof AppError ? err : new AppError('PROVISIONER_FAILED', `container ${what}: ${(err as Error).message}`);
  return {
    kind: 'containers',
    async start(spec: PipelineSpec) {
      if (!base) throw new AppError('PROVISIONER_FAILED', 'PROVISIONER=containers needs PUBLIC_URL (the Worker URL)');
      const settings = bridgeSettings(spec, { ingestUrl: base, hubUrl: base, listenPort: 9001 });
      try {
        await instance(spec.event, spec.pipeline).provision({ ...settings.env, BRIDGE_LISTEN_HOST: '0.0.0.0' });
      } catch (err) {
        throw failed(`start ${containerName(spec.event, spec.pipeline)}`, err);
      }
    },
    async stop(event: string, pipeline: string) {
      try {
        await instance(event, pipeline).deprovision();
      } catch (err) {
        throw failed(`stop ${containerName(event, pipeline)}`, err);
      }
    },
    /** Containers cannot be listed: ask each instance the hub wants running. */
    async running(candidates: RunningPipeline[] = []): Promise<RunningPipeline[]> {
      const out: RunningPipeline[] = [];
      for (const c of candidates) {
        try {
          if (await instance(c.event, c.pipeline).isRunning()) out.push(c);
        } catch (err) {
          throw failed(`state of ${containerName(c.event, c.pipeline)}`, err);
        }
      }
      return out;
    },
  };
}
