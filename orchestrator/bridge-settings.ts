import type { EventDefinition } from '../contract/control-plane.ts';
import type { PipelineSpec } from './provisioner.ts';

export interface BridgePlace {
  /** The Worker's base URL, where the bridge publishes (INGEST_URL). */
  ingestUrl: string;
  /** The Worker's base URL for the hub's spoke socket (HUB_URL); absent: the bridge does not report. */
  hubUrl?: string;
  /** Port the bridge listens on for its contribution feed (PUT /feed). */
  listenPort: number;
  /** Feed token the bridge expects on /feed (default: the bridge's own default). */
  feedToken?: string;
}

/**
 * The caption language carried as CEA-608 CC1 in the contribution feed: the event's default
 * caption track, or its first. Bridges extract it and post the cues; a feed without 608 posts none.
 */
export function cc1Language(def: EventDefinition): string | undefined {
  return (def.captions.find((c) => c.default) ?? def.captions[0])?.language;
}

/**
 * The encoder bridge's settings for one pipeline of an event, as environment variables of
 * encoder-bridge/config.ts. A pure function of the definition (plus where the bridge runs), so
 * pipelines A and B of an event are configured identically by construction; only the pipeline id,
 * its token and its listen port differ. Used by the local agent (scripts/provision-agent.ts) and
 * by Cloudflare Containers (orchestrator/provisioner-containers.ts).
 */
export function bridgeSettings(spec: PipelineSpec, place: BridgePlace): { env: Record<string, string> } {
  const def = spec.definition;
  const env: Record<string, string> = {
    BRIDGE_EVENT: spec.event,
    BRIDGE_PIPELINE: spec.pipeline,
    BRIDGE_LADDER: def.ladder,
    // Every pipeline makes the same audio tracks, in the definition's language order.
    BRIDGE_AUDIO_LANGUAGES: def.audioLanguages.join(','),
    PUBLISH_TO: def.regions.join(','),
    INGEST_URL: place.ingestUrl,
    INGEST_TOKEN: spec.ingestToken,
    CAPTIONS_TOKEN: spec.captionsToken,
    BRIDGE_LISTEN_PORT: String(place.listenPort),
    // Parts on the same epoch grid in every pipeline, or none (docs/latency.md).
    PART_DURATION_MS: String(def.partDurationMs),
    PART_REGIONS: def.partRegions,
  };
  const cc1 = cc1Language(def);
  if (cc1) env.BRIDGE_CC1_LANGUAGE = cc1;
  if (place.hubUrl) env.HUB_URL = place.hubUrl;
  if (place.feedToken) env.BRIDGE_FEED_TOKEN = place.feedToken;
  return { env };
}
