import { z } from 'zod';
import { AppError } from '../contract/errors.ts';
import type { PipelineSpec, Provisioner, RunningPipeline } from './provisioner.ts';

/** How long the hub waits for the agent before it calls the start or stop failed. */
const AGENT_TIMEOUT_MS = 10_000;

/** What `GET /pipelines` of the agent answers (scripts/provision-agent.ts). */
export const AgentPipelineList = z.object({
  pipelines: z.array(z.object({ event: z.string(), pipeline: z.string() }).loose()),
});

export interface LocalProvisionerOptions {
  /** The agent's base URL (PROVISIONER_URL, e.g. http://127.0.0.1:8790). */
  url: string;
  /** Bearer token the agent expects (PROVISIONER_TOKEN). */
  token: string;
  /** For tests: what performs the requests (default: the global fetch). */
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/**
 * PROVISIONER = "local": the hub asks the provision agent that `npm start` runs
 * (scripts/provision-agent.ts) to spawn and stop encoder-bridge processes on this machine
 * (docs/control-plane.md, "Provisioning"). Every refusal or silence of the agent is an
 * AppError PROVISIONER_FAILED, which the hub records in the event's audit timeline.
 */
export function localProvisioner(options: LocalProvisionerOptions): Provisioner {
  const base = options.url.replace(/\/$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? AGENT_TIMEOUT_MS;

  async function call(method: string, path: string, body?: unknown): Promise<Response> {
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${options.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new AppError('PROVISIONER_FAILED', `local agent ${base}: ${method} ${path}: ${(err as Error).message}`);
    }
    return res;
  }

  async function refusal(res: Response, what: string): Promise<AppError> {
    const text = (await res.text().catch(() => '')).slice(0, 500);
    return new AppError('PROVISIONER_FAILED', `local agent ${base}: ${what}: ${res.status} ${text}`);
  }

  return {
    kind: 'local',
    async start(spec: PipelineSpec) {
      const res = await call('POST', '/pipelines', { spec });
      if (!res.ok) throw await refusal(res, `start ${spec.event}/${spec.pipeline}`);
      await res.body?.cancel();
    },
    async stop(event: string, pipeline: string) {
      const res = await call('DELETE', `/pipelines/${encodeURIComponent(event)}/${encodeURIComponent(pipeline)}`);
      // Not running is what stop wants.
      if (!res.ok && res.status !== 404) throw await refusal(res, `stop ${event}/${pipeline}`);
      await res.body?.cancel();
    },
    async running(): Promise<RunningPipeline[]> {
      const res = await call('GET', '/pipelines');
      if (!res.ok) throw await refusal(res, 'list');
      const parsed = AgentPipelineList.safeParse(await res.json().catch(() => null));
      if (!parsed.success) throw new AppError('PROVISIONER_FAILED', `local agent ${base}: list: unexpected answer`);
      return parsed.data.pipelines.map(({ event, pipeline }) => ({ event, pipeline }));
    },
  };
}
