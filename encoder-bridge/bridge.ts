import { ladders } from '../contract/ladder.ts';
import { ladderForLanguages } from './audio-languages.ts';
import { loadBridgeConfig, publishTargets } from './config.ts';
import { Cc1Captions } from './cea608/cc1-captions.ts';
import { CaptionPoster } from './cea608/caption-poster.ts';
import { contributionStatus } from './contribution-status.ts';
import { FeedGate, StreamFeed } from './feed-gate.ts';
import { Pipeline } from './pipeline.ts';
import { feedTaps } from './feed-taps.ts';
import { SplicePoster } from './scte35/splice-poster.ts';
import { TsScte35Reader } from './scte35/ts-scte35-reader.ts';
import { Publisher } from './publisher.ts';
import { DualPathReceiver } from './rtp/dual-path-receiver.ts';
import { SrtListener } from './srt-listener.ts';
import { createBridgeServer, type HttpFeedCounters } from './server.ts';
import { mintToken } from '../contract/scoped-token.ts';
import { HubReporter } from './hub-reporter.ts';

/** The bridge process (started by main.ts, which turns on the compile cache first). */
const config = (() => {
  try {
    return loadBridgeConfig(process.argv.slice(2), process.env);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
})();

const tag = `[bridge ${config.event}/${config.pipeline}]`;
const log = (message: string) => console.log(`${new Date().toISOString()} ${tag} ${message}`);
// The event's audio languages (--audio-languages): one set of the ladder's audio renditions each.
const ladder = (() => {
  try {
    const preset = ladders[config.ladder];
    return config.audioLanguages ? ladderForLanguages(preset, config.audioLanguages) : preset;
  } catch (err) {
    console.error(`${tag} ${(err as Error).message}`);
    process.exit(2);
  }
})();
// Tokens given are used as they are; without one the bridge signs its own from the local key.
const ingestToken =
  config.ingestToken ??
  (await mintToken(config.ingestTokenKey, { scope: 'ingest', event: config.event, pipeline: config.pipeline }));
const captionsToken =
  config.captionsToken ?? (await mintToken(config.ingestTokenKey, { scope: 'captions', event: config.event }));
if (!config.ingestToken)
  log("no --ingest-token: signing this bridge's own tokens with --ingest-token-key (local development)");
// The bridge as a spoke of the hub (--hub-url): reports and thumbnails over a WebSocket, off the media path.
let reporter: HubReporter | undefined;
const publisher = new Publisher({
  observer: {
    init: (track, bytes) => reporter?.onInit(track, bytes),
    segment: (track, kind, k, bytes, ok) => reporter?.onSegment(track, kind, k, bytes, ok),
  },
  ingestUrl: config.ingestUrl,
  targets: publishTargets(config),
  token: ingestToken,
  event: config.event,
  pipeline: config.pipeline,
  segmentBudgetMs: config.segmentDurationMs,
  partDurationMs: config.partDurationMs,
  partRegions: config.partRegions,
  log,
});
// CC1 captions of the feed (--cc1-language): every pipeline posts them; identical cues are stored once.
const captionPoster = config.cc1Language
  ? new CaptionPoster({
      url: config.ingestUrl,
      token: captionsToken,
      event: config.event,
      language: config.cc1Language,
      segmentDurationMs: config.segmentDurationMs,
      pipelineDelayMs: config.pipelineDelayMs,
      log,
    })
  : undefined;
const cc1 = captionPoster
  ? new Cc1Captions({ segmentDurationMs: config.segmentDurationMs, onCue: (cue) => captionPoster.post(cue) })
  : undefined;
// SCTE-35 of the feed (scte35/): every pipeline posts each break with its ingest token; the origin keeps it once.
const splicePoster = new SplicePoster({ url: config.ingestUrl, token: ingestToken, event: config.event, log });
const scte35 = new TsScte35Reader({ onSplice: (splice) => splicePoster.post(splice), log });
const pipeline = (() => {
  try {
    return new Pipeline({
      ladder,
      segmentDurationMs: config.segmentDurationMs,
      publisher,
      ffmpegPath: config.ffmpegPath,
      restartDelayMs: config.restartDelayMs,
      utcSource: config.utcSource,
      log,
      feedTap: feedTaps(cc1, scte35),
    });
  } catch (err) {
    // e.g. a ladder asking for HE-AAC from an ffmpeg without libfdk_aac: say why and stop
    console.error(`${tag} cannot run ladder '${ladder.name}': ${(err as Error).message}`);
    process.exit(2);
  }
})();
// Every input (HTTP push, RTP, SRT) claims the pipeline here: one contribution feed at a time.
const gate = new FeedGate({ sink: pipeline, log });
// Two-path RTP contribution (SMPTE 2022-7) when ports are configured; HTTP push stays available.
const rtpFeed = new StreamFeed(gate, 'rtp', () => `RTP SSRC ${rtp?.status().ssrc} on ports ${config.rtpPorts}`);
const rtp = config.rtpPorts
  ? new DualPathReceiver({
      ports: config.rtpPorts,
      host: config.listenHost,
      skewMs: config.rtpSkewMs,
      allow: config.rtpAllow,
      onPayload: (ts) => rtpFeed.feed(ts), // UDP cannot be paused: the pipeline buffers
      onStreamEnd: () => rtpFeed.end(),
      log,
    })
  : undefined;
if (rtp) {
  try {
    await rtp.start();
  } catch (err) {
    console.error(`cannot bind RTP ports ${config.rtpPorts!.join(',')}: ${(err as Error).message}`);
    process.exit(2);
  }
}
// SRT contribution (one caller at a time) when a port is configured.
const srt = config.srtPort
  ? new SrtListener({
      host: config.listenHost,
      port: config.srtPort,
      latencyMs: config.srtLatencyMs,
      passphrase: config.srtPassphrase,
      pbkeylen: config.srtPbkeylen,
      ffmpegPath: config.ffmpegPath,
      gate,
      log,
    })
  : undefined;
srt?.start();
const httpFeedCounters: HttpFeedCounters = { unauthorized: 0 };
const server = createBridgeServer({
  pipeline,
  publisher,
  gate,
  feedToken: config.feedToken,
  httpFeedCounters,
  segmentDurationMs: config.segmentDurationMs,
  describe: () => ({
    event: config.event,
    pipeline: config.pipeline,
    ladder: ladder.name,
    segmentDurationMs: config.segmentDurationMs,
    contribution: contributionStatus({
      gate,
      http: httpFeedCounters,
      rtp: rtp?.status(),
      srt: srt && { url: srt.url, counters: srt.counters },
    }),
    cc1Captions:
      cc1 && captionPoster ? { language: config.cc1Language, ...cc1.counters, ...captionPoster.counters } : null,
    scte35: { ...scte35.counters, ...splicePoster.counters },
  }),
});

if (config.hubUrl) {
  const lowest = [...ladder.video].sort((a, b) => a.height - b.height)[0];
  reporter = new HubReporter({
    hubUrl: config.hubUrl,
    token: ingestToken,
    event: config.event,
    pipeline: config.pipeline,
    segmentDurationMs: config.segmentDurationMs,
    thumbnailTrack: lowest?.id,
    ffmpegPath: config.ffmpegPath,
    log,
    snapshot: () => {
      const s = pipeline.status();
      const r = rtp?.status();
      return {
        encoder: {
          state: s.state,
          ffmpegRestarts: s.ffmpegRestarts,
          frameRate: s.frameRate,
          utcCarrier: s.utcCarrier,
          refusal: s.refusal,
        },
        publisher: publisher.counters,
        feed: gate.status().active,
        rtp: r && { paths: r.paths, merged: r.merged },
      };
    },
  });
  reporter.start();
}

server.listen(config.listenPort, config.listenHost, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.listenPort;
  log(
    `listening on http://${config.listenHost}:${port} (feed: PUT /feed with the feed token), publishing to ${publisher.describeTargets()}`,
  );
});

// Progress line every 10 s so a person watching the terminal sees segments flow.
const progress = setInterval(() => {
  const s = pipeline.status();
  const c = publisher.counters;
  const r = rtp?.status();
  const rtpLine = r
    ? `, rtp merged lost ${r.merged.lost} (${Object.entries(r.paths)
        .map(([p, v]) => `${p} lost ${v.lost}`)
        .join(', ')})`
    : '';
  const regions = Object.entries(c.regions)
    .map(([r, v]) => `${r} ${v.published}/${v.failed} failed`)
    .join(', ');
  const ccLine =
    cc1 && captionPoster
      ? `, CC1 cues extracted ${cc1.counters.extracted}/posted ${captionPoster.counters.posted}/failed ${captionPoster.counters.failed} (late ${captionPoster.counters.late})`
      : '';
  const refused = contributionStatus({
    gate,
    http: httpFeedCounters,
    rtp: r,
    srt: srt && { url: srt.url, counters: srt.counters },
  }).refused;
  const refusedLine = refused.total > 0 ? `, contribution refused ${refused.total} (see /status)` : '';
  log(
    `${s.state}: published ${c.published} (last K ${c.lastK ?? '-'}; ${regions}), retried ${c.retried}, failed ${c.failed}, feed lag ${s.feedLagMs ?? '-'} ms, ffmpeg restarts ${s.ffmpegRestarts}${rtpLine}${ccLine}${refusedLine}`,
  );
}, 10_000);
progress.unref();

/** How long shutdown waits for CC1 cues still being posted. */
const CAPTION_DRAIN_MS = 2000;
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    reporter?.stop();
    pipeline.stop();
    void rtp?.stop();
    srt?.stop();
    server.close();
    void (async () => {
      if (cc1 && captionPoster) {
        try {
          // The pictures still held for reordering give their cues; the one on screen is counted unfinished.
          cc1.endOfFeed();
        } catch (err) {
          log(`CC1 captions: error at shutdown: ${(err as Error).message}`);
        }
        const dropped = await captionPoster.close(CAPTION_DRAIN_MS);
        const c = captionPoster.counters;
        log(
          `CC1 captions at shutdown: posted ${c.posted}, failed ${c.failed} (late ${c.late}), dropped ${dropped} (still waiting after a ${CAPTION_DRAIN_MS} ms drain), ${cc1.counters.unfinished} unfinished on screen (never posted)`,
        );
      }
      process.exit(0);
    })();
  });
}
