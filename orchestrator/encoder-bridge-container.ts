import type { DurableObject } from 'cloudflare:workers';
import { Container } from '@cloudflare/containers';

/** The port the bridge image listens on (encoder-bridge/Dockerfile: BRIDGE_LISTEN_PORT). */
export const BRIDGE_PORT = 9001;

/** What the hub gave this instance (orchestrator/provisioner-containers.ts), kept across restarts. */
interface Provisioned {
  envVars: Record<string, string>;
  /** The bridge's feed token: the Worker adds it when it forwards a contribution feed. */
  feedToken: string;
}

const KEY = 'provisioned';

/**
 * One encoder bridge as a Cloudflare Container (DESIGN §9, docs/containers.md): one instance per
 * (event, pipeline), addressed as `ENCODER_BRIDGE.getByName(`${event}:${pipeline}`)`. The hub
 * provisions it with the bridge's settings as environment variables (encoder-bridge/config.ts);
 * the Worker's `PUT /contribution/{event}/{pipeline}` forwards the venue's feed to its `/feed`.
 * An instance that was never provisioned (or was deprovisioned) refuses feeds instead of starting
 * a bridge without settings.
 */
export class EncoderBridge extends Container {
  override defaultPort = BRIDGE_PORT;
  /** A live event keeps the feed flowing; an instance nobody feeds stops after this. */
  override sleepAfter = '2h';
  private provisioned: Provisioned | undefined;

  constructor(ctx: DurableObject['ctx'], env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.provisioned = await ctx.storage.get<Provisioned>(KEY);
      if (this.provisioned) this.envVars = this.provisioned.envVars;
    });
  }

  /** Start (or restart with new settings) the bridge; resolves when it listens. */
  async provision(envVars: Record<string, string>): Promise<void> {
    const feedToken = envVars.BRIDGE_FEED_TOKEN ?? crypto.randomUUID();
    this.provisioned = { envVars: { ...envVars, BRIDGE_FEED_TOKEN: feedToken }, feedToken };
    await this.ctx.storage.put(KEY, this.provisioned);
    this.envVars = this.provisioned.envVars;
    const state = await this.getState();
    if (state.status === 'running' || state.status === 'healthy') await this.stop('SIGTERM');
    await this.startAndWaitForPorts({ startOptions: { envVars: this.provisioned.envVars } });
  }

  /** Stop the bridge (SIGTERM: it drains CC1 cues) and forget its settings. */
  async deprovision(): Promise<void> {
    this.provisioned = undefined;
    await this.ctx.storage.delete(KEY);
    const state = await this.getState();
    if (state.status === 'running' || state.status === 'healthy') await this.stop('SIGTERM');
  }

  /** Provisioned and its container running: what the hub's reconcile asks after a restart. */
  async isRunning(): Promise<boolean> {
    if (!this.provisioned) return false;
    const state = await this.getState();
    return state.status === 'running' || state.status === 'healthy';
  }

  /** The contribution feed (`PUT /feed`, forwarded by the Worker) and the bridge's `/status`. */
  override async fetch(request: Request): Promise<Response> {
    if (!this.provisioned)
      return new Response('this pipeline is not provisioned: start the event first\n', { status: 409 });
    const headers = new Headers(request.headers);
    headers.set('authorization', `Bearer ${this.provisioned.feedToken}`);
    return this.containerFetch(new Request(request, { headers }), BRIDGE_PORT);
  }
}
