import { parseArgs } from 'node:util';
import { z } from 'zod';
import { CaptionLanguage } from '../contract/captions.ts';
import { Language } from '../contract/control-plane.ts';
import { EventId, PipelineId } from '../contract/ids.ts';
import { ladders } from '../contract/ladder.ts';
import { RtpPortPair } from './rtp/rtp-options.ts';
import { LOCAL_SOURCES, RtpAllowList } from './rtp/source-allow-list.ts';

/**
 * Contribution credentials' local-dev defaults: the bridge expects them and the synthetic source
 * sends them, so `npm start` and the tests authenticate without configuration. Set real ones in
 * production (docs/configuration.md, "Contribution authentication").
 */
export const DEFAULT_FEED_TOKEN = 'dev-feed-token';
export const DEFAULT_SRT_PASSPHRASE = 'dev-srt-passphrase';
export const DEFAULT_SRT_PBKEYLEN = 16;

/** libsrt accepts 10 to 64 characters (ffmpeg 5.1 with libsrt 1.5). */
export const SrtPassphrase = z.string().min(10).max(64);
export const SrtKeyLength = z.coerce
  .number()
  .refine((n) => n === 16 || n === 24 || n === 32, { message: 'must be 16, 24 or 32 (AES-128/192/256)' })
  .transform((n) => n as 16 | 24 | 32);

/**
 * Bridge configuration: command-line flags override environment variables, which override the
 * defaults below (all runnable locally without editing anything). See docs/configuration.md.
 */
export const BridgeConfig = z.object({
  event: EventId.default('demo'),
  pipeline: PipelineId.default('A'),
  /** Where the contribution feed is pushed (HTTP PUT/POST of MPEG-TS to /feed) and /status, /health answer. */
  listenPort: z.coerce.number().int().min(0).max(65535).default(9001),
  listenHost: z.string().default('127.0.0.1'),
  /** Base URL of the Worker's ingest route. */
  ingestUrl: z.url().default('http://127.0.0.1:8787'),
  /**
   * Cross-publishing: the origin regions every segment is PUT to, comma separated, each optionally
   * with its own ingest URL (`r1,r2=http://other:8787`); a region without one uses ingestUrl.
   * Each region has its own retries inside the segment budget. See docs/configuration.md.
   */
  publishTo: z
    .string()
    .regex(
      /^[a-z0-9-]{1,16}(=[^,\s]+)?(,[a-z0-9-]{1,16}(=[^,\s]+)?)*$/,
      'comma-separated regions, each "r1" or "r1=http://host:port"',
    )
    .refine((v) => v.split(',').every((e) => !e.includes('=') || URL.canParse(e.slice(e.indexOf('=') + 1))), {
      message: 'each "region=URL" needs a valid URL',
    })
    .default('r1,r2'),
  /**
   * Scoped ingest token of this event (and pipeline), minted by the operator API
   * (`POST /api/events/{event}/tokens`). Unset: the bridge signs its own with ingestTokenKey.
   */
  ingestToken: z.string().min(1).optional(),
  /** Scoped captions token of this event, for CC1 cues (--cc1-language). Unset: signed with ingestTokenKey. */
  captionsToken: z.string().min(1).optional(),
  /**
   * Local development only: the Worker's INGEST_TOKEN_KEY (.dev.vars), with which the bridge signs
   * its own scoped tokens when none is given. Never give a production bridge the key: give it tokens.
   */
  ingestTokenKey: z.string().min(1).default('dev-ingest-token-key'),
  /** A push to /feed must carry `Authorization: Bearer <this>`. */
  feedToken: z.string().min(8).default(DEFAULT_FEED_TOKEN),
  ladder: z
    .string()
    .refine((name) => name in ladders, { message: `ladder must be one of: ${Object.keys(ladders).join(', ')}` })
    .default('local'),
  /**
   * The event's audio languages, comma separated, in order (`en,es,fr,de`; the first is the main
   * one): one set of the ladder's audio renditions per language, each fed by the source stream
   * tagged with that language (encoder-bridge/audio-languages.ts). Unset: the ladder's own renditions.
   */
  audioLanguages: z
    .string()
    .transform((v) => v.split(',').map((l) => l.trim()))
    .pipe(
      z
        .array(Language)
        .min(1)
        .max(8)
        .refine((ls) => new Set(ls.map((l) => l.toLowerCase())).size === ls.length, {
          message: 'languages must not repeat',
        }),
    )
    .optional(),
  segmentDurationMs: z.coerce.number().int().min(500).max(10_000).default(2000),
  /**
   * Chunked CMAF (docs/latency.md): also publish each segment as parts of this many ms as they
   * are made (500: four parts of a 2 s segment, 333: six), for LL-HLS; must match the event's
   * `latency.partDurationMs` (default 500). Default 0, whole segments only: parts triple the PUTs,
   * and on a loaded 2-core machine they cost the standard-latency players (docs/latency.md).
   */
  partDurationMs: z.coerce
    .number()
    .refine((v) => [0, 333, 500].includes(v), { message: 'partDurationMs must be 500, 333 or 0 (no parts)' })
    .default(0),
  /**
   * Which publish targets get the parts (docs/latency.md): `first` (default), the first region
   * only; `all`, every region, so that the edge's failover for parts and LL playlists
   * (edge/region-choice.ts) finds them in the other region when the first fails. `all` doubles the
   * part PUTs; with two regions under `wrangler dev` on a loaded 2-core machine that made PUTs time
   * out, segments included (docs/latency.md).
   */
  partRegions: z.enum(['first', 'all']).default('first'),
  ffmpegPath: z.string().default('ffmpeg'),
  restartDelayMs: z.coerce.number().int().min(0).max(60_000).default(1000),
  /**
   * Where a feed's UTC comes from (docs/architecture.md "Carrying UTC per frame"). `feed`: a UTC
   * SEI on the pictures, else the PTS; a feed with neither (its PTS over 10 min off this clock) is
   * refused. `arrival`: such a feed is stamped with this bridge's clock on arrival instead, NOT
   * redundant-safe (another pipeline stamps the same frames differently); /status says so.
   */
  utcSource: z.enum(['feed', 'arrival']).default('feed'),
  /** Two-path RTP contribution (SMPTE 2022-7): UDP ports of path 1 and path 2, bound on listenHost. Unset: HTTP push only. */
  rtpPorts: RtpPortPair.optional(),
  /** Largest delay difference between the two RTP paths that is still merged without loss. */
  rtpSkewMs: z.coerce.number().int().min(10).max(5000).default(200),
  /** RTP senders accepted per path (rtp/source-allow-list.ts); the default accepts this machine only. */
  rtpAllow: RtpAllowList.prefault(LOCAL_SOURCES),
  /** SRT listener port (bound on listenHost; ffmpeg's libsrt). Unset: no SRT. */
  srtPort: z.coerce.number().int().min(1).max(65535).optional(),
  /** SRT receive latency: the time SRT may spend recovering lost packets. */
  srtLatencyMs: z.coerce.number().int().min(20).max(8000).default(200),
  /** SRT callers must encrypt with this passphrase; callers without it or with another are rejected. */
  srtPassphrase: SrtPassphrase.default(DEFAULT_SRT_PASSPHRASE),
  /** SRT AES key length in bytes. */
  srtPbkeylen: SrtKeyLength.default(DEFAULT_SRT_PBKEYLEN),
  /**
   * CEA-608 CC1 in the feed's video (A/53 SEI) becomes cues of this caption language, posted to
   * the captions API; the language must be declared on the event. Unset: the feed's 608 is ignored.
   */
  cc1Language: CaptionLanguage.optional(),
  /**
   * The event's pipelineDelayMs (contract/event-config.ts). The bridge uses it only to tell when a
   * CC1 cue's segment is final at the origin, so that cues the origin would refuse are not sent.
   */
  pipelineDelayMs: z.coerce.number().int().min(0).max(30_000).default(1500),
  /**
   * The Worker's base URL whose hub this bridge reports to (`GET /api/hub/spoke`, a WebSocket with
   * the ingest token; encoder-bridge/hub-reporter.ts). Unset: no reports. The provision agent and
   * Cloudflare Containers set it.
   */
  hubUrl: z.url().optional(),
});
export type BridgeConfig = z.infer<typeof BridgeConfig>;

const flags = {
  event: 'BRIDGE_EVENT',
  pipeline: 'BRIDGE_PIPELINE',
  'listen-port': 'BRIDGE_LISTEN_PORT',
  'listen-host': 'BRIDGE_LISTEN_HOST',
  'ingest-url': 'INGEST_URL',
  'ingest-token': 'INGEST_TOKEN',
  'captions-token': 'CAPTIONS_TOKEN',
  'ingest-token-key': 'INGEST_TOKEN_KEY',
  'feed-token': 'BRIDGE_FEED_TOKEN',
  'publish-to': 'PUBLISH_TO',
  ladder: 'BRIDGE_LADDER',
  'audio-languages': 'BRIDGE_AUDIO_LANGUAGES',
  'segment-duration-ms': 'SEGMENT_DURATION_MS',
  'part-duration-ms': 'PART_DURATION_MS',
  'part-regions': 'PART_REGIONS',
  ffmpeg: 'FFMPEG_PATH',
  'restart-delay-ms': 'BRIDGE_RESTART_DELAY_MS',
  'utc-source': 'BRIDGE_UTC_SOURCE',
  'rtp-ports': 'BRIDGE_RTP_PORTS',
  'rtp-skew-ms': 'BRIDGE_RTP_SKEW_MS',
  'rtp-allow': 'BRIDGE_RTP_ALLOW',
  'srt-port': 'BRIDGE_SRT_PORT',
  'srt-latency-ms': 'BRIDGE_SRT_LATENCY_MS',
  'srt-passphrase': 'BRIDGE_SRT_PASSPHRASE',
  'srt-pbkeylen': 'BRIDGE_SRT_PBKEYLEN',
  'cc1-language': 'BRIDGE_CC1_LANGUAGE',
  'pipeline-delay-ms': 'BRIDGE_PIPELINE_DELAY_MS',
  'hub-url': 'HUB_URL',
} as const;

/** The command-line flag of a config key, for error messages (ffmpegPath is --ffmpeg). */
const flagOf = (key: string) => Object.keys(flags).find((f) => camel(f) === key) ?? key;
const camel = (flag: string) =>
  flag === 'ffmpeg' ? 'ffmpegPath' : flag.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

export function loadBridgeConfig(argv: string[], env: Record<string, string | undefined>): BridgeConfig {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(Object.keys(flags).map((f) => [f, { type: 'string' as const }])),
    strict: true,
  });
  const raw: Record<string, unknown> = {};
  for (const [flag, envName] of Object.entries(flags)) {
    const value = (values as Record<string, string | undefined>)[flag] ?? env[envName];
    if (value !== undefined) raw[camel(flag)] = value;
  }
  const parsed = BridgeConfig.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `invalid bridge configuration:\n${parsed.error.issues.map((i) => `  --${flagOf(String(i.path[0]))}: ${i.message}`).join('\n')}`,
    );
  }
  return parsed.data;
}

/** `publishTo` as publish targets: one per region, each with its ingest base URL. */
export function publishTargets(
  config: Pick<BridgeConfig, 'publishTo' | 'ingestUrl'>,
): { region: string; url: string }[] {
  return config.publishTo.split(',').map((entry) => {
    const [region, url] = entry.split(/=(.*)/s);
    const base = url ?? config.ingestUrl;
    return { region, url: base.replace(/\/$/, '') };
  });
}
