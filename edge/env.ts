import type { EventOrigin } from '../origin/event-origin.ts';

/** Bindings of the one Worker script (wrangler.toml + secrets; .dev.vars locally). */
export interface Env {
  /** Origin Durable Object namespace: one object per event and region, named `${event}:${region}`. */
  EVENT_ORIGIN: DurableObjectNamespace<EventOrigin>;
  /** Static assets (public/): the player page and its vendored libraries. */
  ASSETS: Fetcher;
  /** Region this Worker ingests into and reads from (e.g. "r1"). */
  REGION?: string;
  /** Every region of the deployment, comma separated (e.g. "r1,r2"): where controls apply and ingest may target. */
  REGIONS?: string;
  /** Bearer token the encoder bridge sends with ingest PUTs. */
  INGEST_TOKEN: string;
  /** Bearer token for operator and control APIs. */
  OPERATOR_TOKEN: string;
  /** Key that signs player tokens (used by later issues). */
  PLAYER_TOKEN_KEY: string;
}

export const DEFAULT_REGION = 'r1';
export const DEFAULT_REGIONS = 'r1,r2';
