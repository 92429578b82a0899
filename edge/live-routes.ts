import type { MiddlewareHandler } from 'hono';
import { AppError } from '../contract/errors.ts';
import { EVENT_STATE_HEADER } from '../contract/event-state.ts';
import { EventId, PipelineId, SegmentNumber, TrackId } from '../contract/ids.ts';
import type { ManifestHold, ManifestInput, TrackDescriptor } from '../contract/track.ts';
import { writeMpd } from '../packager/manifest/dash.ts';
import { writeMediaPlaylist, writeMultivariantPlaylist } from '../packager/manifest/hls.ts';
import { type LowLatencyInput, writeLowLatencyMediaPlaylist } from '../packager/manifest/ll-hls.ts';
import { lowLatencyKey, parseLowLatencyQuery } from './ll-hls-query.ts';
import { unwrap } from '../origin/result.ts';
import { expectedPublishMs, segmentNumberAt } from '../contract/epoch.ts';
import { partDurationOf, streamsParts } from '../contract/low-latency.ts';
import { partGridOf } from '../origin/part-timing.ts';
import type { OriginFact } from '../contract/origin-facts.ts';
import { CMSD_STATIC, cmsdStatic, objectTypeOf, rememberLadder, segmentKbps } from './cmsd.ts';
import type { AnswerSubject } from './answer-policy.ts';
import { refusedAnswer, servedAnswer, serveCached } from './edge-answer.ts';
import type { CachedAnswer } from './hot-cache.ts';
import { edgeCache } from './edge-cache.ts';
import { isDvrSegment } from './edge-load.ts';
import { chooseRegion, eventTimings, playlistBlockEndMs, regionsDown, segmentDueMs } from './region-choice.ts';
import { candidateHeader } from '../origin/select-candidate.ts';
import { chunkedSegment } from './chunked-segment-route.ts';
import { check } from './credentials.ts';
import { withLicenseUrl } from './drm-routes.ts';
import type { Ctx, RouteHandler } from './route-handler.ts';
import { etagFor, matchesIfNoneMatch, sha256Hex } from './etag.ts';
import { rememberEventState } from './event-state-memory.ts';
import { pathPart } from './ingest-path.ts';
import {
  personalisationFor,
  personalisationHeaders,
  personalisedInput,
  type RequestPersonalisation,
  refuseManifestFilter,
} from './personalisation.ts';
import { type FetchedInput, inputSource, keptTrackKey, type Memo, memoisedInput } from './personalised-input.ts';
import { originFor, regionOf, requireKnownRegion } from './origin-stub.ts';

/**
 * Player-facing routes (docs/api.md), behind the edge shield (docs/edge-shield.md): every answer
 * goes through the edge cache (edge/edge-answer.ts) with coalesced misses, and segments, inits
 * and manifests come from the best of the candidates of every region (edge/four-candidates.ts).
 * Operator candidate fetches (`?pipeline=`) bypass all of it.
 */

/**
 * Keep the newest x-event-state per event, whatever the answer (errors carry it too) — from the
 * home region only: an operator fetch with `?region=` reads another region's origin.
 */
export const rememberLiveEventState: MiddlewareHandler = async (c, next) => {
  await next();
  const url = new URL(c.req.url);
  const event = url.pathname.split('/')[2];
  if (event && !url.searchParams.has('region')) rememberEventState(event, c.res.headers.get(EVENT_STATE_HEADER));
};

/** Operator fetches bypass selection; no shared cache may keep them. */
const OPERATOR_TTL = 'private, no-store';

const mediaType = (kind: TrackDescriptor['kind']) =>
  kind === 'audio' ? 'audio/mp4' : kind === 'video' ? 'video/mp4' : 'application/mp4';

/** 200 with an ETag, or 304 when the client already has exactly this (same version, same bytes). */
function respond(c: Ctx, body: BodyInit, etag: string, headers: Record<string, string>): Response {
  const all: Record<string, string> = { ...headers, etag };
  if (matchesIfNoneMatch(c.req.header('if-none-match'), etag)) {
    delete all['content-type'];
    return new Response(null, { status: 304, headers: all });
  }
  return new Response(body, { headers: all });
}

/**
 * `?pipeline=B[&region=r1]` asks for exactly that stored candidate, bypassing selection and
 * masks: what the Control Room and tests use to compare pipelines. Operators only.
 */
async function operatorPick(c: Ctx): Promise<{ pipeline: string; region?: string } | undefined> {
  const pipeline = c.req.query('pipeline');
  const region = c.req.query('region');
  if (pipeline === undefined && region === undefined) return undefined;
  await check(c, 'operator:read');
  if (pipeline === undefined)
    throw new AppError('BAD_QUERY', '?region= needs ?pipeline= (an operator candidate fetch names the pipeline)');
  const p = PipelineId.safeParse(pipeline);
  if (!p.success) throw new AppError('BAD_QUERY', `pipeline "${pipeline}" is invalid: ${p.error.issues[0].message}`);
  if (region === undefined) return { pipeline: p.data };
  return { pipeline: p.data, region: requireKnownRegion(c.env, region) };
}

/** What this isolate's edge shield did (the operator state's `edge.shield`). */
export function shieldState() {
  return { cache: { ...edgeCache.counters }, hot: edgeCache.hot.size, regionsDown: regionsDown() };
}

/** A request far behind the live edge is DVR: shed first under load. Unknown timing: live. */
function segmentKind(event: string, k: number): 'live' | 'dvr' {
  const t = eventTimings.get(event);
  return t && isDvrSegment(k, Date.now(), t.segmentDurationMs, t.pipelineDelayMs) ? 'dvr' : 'live';
}

/**
 * A standard media playlist's next segment (edge/answer-policy.ts): it cannot be listed before it
 * ends, and the origin waits for it until it is due. None once the event has ended or hands over
 * to a next event (those playlists change for other reasons: half a segment, as before).
 */
function nextSegmentOf(input: ManifestInput, track: string) {
  const newest = input.lastSegmentByTrack[track];
  if (newest === undefined || input.ended || input.next) return undefined;
  const { segmentDurationMs: D, pipelineDelayMs } = input.config;
  const k = newest + 1;
  return { endsAtMs: (k + 1) * D, dueAtMs: expectedPublishMs(k, D, pipelineDelayMs) };
}

/** The event's manifest input from the best region's origin (and the next event's, one hop), with its answer's TTL. */
async function inputFromOrigin(
  c: Ctx,
  event: string,
  type: 'mpd' | 'multivariant-playlist' | 'media-playlist',
  subject: Omit<AnswerSubject, 'type'>,
  /** Wait at the origin until this segment of the track is stored (or due): a playlist's background refresh. */
  hold?: ManifestHold,
): Promise<FetchedInput> {
  const fetchedAt = Date.now();
  // A hold is answered by the segment's due time: the region deadline counts from there.
  const chosen = await chooseRegion(c, {
    dueAtMs: segmentDueMs(event, hold?.k),
    ask: (r) => originFor(c.env, event, r).manifestInput(hold),
  });
  if (!chosen.result.ok)
    return {
      chosen,
      fetchedAt,
      ttlMs: (await refusedAnswer(c.env, type, subject, chosen.result)).freshUntil - fetchedAt,
    };
  const { input } = chosen.result.value;
  eventTimings.set(event, {
    segmentDurationMs: input.config.segmentDurationMs,
    pipelineDelayMs: input.config.pipelineDelayMs,
    parts: partGridOf(input.config).parts,
  });
  rememberLadder(event, input.tracks);
  if (input.next) {
    // The next event's own state, once it exists (only one hop: its own `next` is not followed).
    const next = await originFor(c.env, input.next.eventId, chosen.region).manifestInput();
    if (next.ok) input.next.input = { ...next.value.input, next: undefined };
  }
  const fact = { state: 'manifest', segmentDurationMs: input.config.segmentDurationMs } as const;
  const ttlMs = (await servedAnswer(c.env, { ...subject, type }, fact, '', {})).freshUntil - fetchedAt;
  return { chosen, fetchedAt, ttlMs };
}

async function manifest(
  c: Ctx,
  type: 'mpd' | 'multivariant-playlist' | 'media-playlist',
  write: (input: ManifestInput, personal: RequestPersonalisation) => string,
  contentType: string,
  keyExtra: string,
  /**
   * LL-HLS (docs/latency.md): `before` runs first inside the coalesced fill (a blocking reload
   * waits there, once per cache key in this isolate) and may refuse; `changesEveryMs` is how often
   * the playlist changes (a part duration), which sets its TTL instead of D.
   */
  lowLatency?: { before: () => Promise<CachedAnswer | undefined>; changesEveryMs: () => number },
  /**
   * A standard media playlist's track: kept until its next segment ends, then served while one
   * background refresh waits at the origin for that segment (edge/answer-policy.ts).
   */
  playlistTrack?: string,
): Promise<Response> {
  const event = pathPart(EventId, c.req.param('event'), 'event');
  const url = new URL(c.req.url);
  const subject = { type, event, track: c.req.param('track'), path: url.pathname } as const;
  // Device profile and manifest filter (docs/manifests.md). A verified player token's device
  // claim wins over ?device=, which anyone can write.
  const personal = await personalisationFor(
    c,
    c.get('player')?.device,
    type === 'media-playlist' ? 'media-playlist' : 'manifest',
  );
  const format = type === 'mpd' ? 'dash' : 'hls';
  const checkEmpty = type !== 'media-playlist';
  // The multivariant playlist's URIs carry ?device=: its bytes hold the query.
  const carried = type === 'multivariant-playlist' ? personal.query : undefined;
  const personalised = personal.key !== '';
  const fetchInput = (hold?: ManifestHold) => inputFromOrigin(c, event, type, subject, hold);
  /**
   * What a background refresh of this playlist waits for: the segment that ended last, the newest
   * one it can be missing (stored already: the origin answers at once).
   */
  const holdFor = (): ManifestHold | undefined => {
    const t = eventTimings.get(event);
    if (playlistTrack === undefined || !t) return undefined;
    const k = segmentNumberAt(Date.now(), t.segmentDurationMs) - 1;
    return { track: playlistTrack, k, untilMs: expectedPublishMs(k, t.segmentDurationMs, t.pipelineDelayMs) };
  };
  // A personalised manifest is kept under the tracks it lists (edge/personalised-input.ts), told
  // from the event's memoised input: personalisations that keep the same tracks share one entry.
  const keyed = personalised ? await memoisedInput(event, fetchInput) : undefined;
  const personalKey = keyed ? keptTrackKey(keyed, personal, format, checkEmpty, carried) : '';
  /** The answer written from one origin answer (a memoised one: as old as that answer). */
  const written = async (fetched: FetchedInput, memo?: Memo): Promise<CachedAnswer> => {
    const chosen = fetched.chosen;
    if (!chosen.result.ok) return refusedAnswer(c.env, type, subject, chosen.result);
    const { input, version, eventState } = chosen.result.value;
    const shaped = personalisedInput(input, personal, format, checkEmpty);
    if (!shaped.ok) return refusedAnswer(c.env, type, subject, { ...shaped, fact: { state: 'missing' } });
    let body: string;
    try {
      body = write(shaped.input, personal);
    } catch (err) {
      if (err instanceof AppError && err.code === 'TRACK_NOT_FOUND')
        return refusedAnswer(c.env, type, subject, {
          ok: false,
          code: err.code,
          message: err.message,
          fact: { state: 'missing' },
        });
      throw err;
    }
    const next = playlistTrack === undefined ? undefined : nextSegmentOf(shaped.input, playlistTrack);
    const answer = await servedAnswer(
      c.env,
      subject,
      {
        state: 'manifest',
        segmentDurationMs: lowLatency?.changesEveryMs() ?? input.config.segmentDurationMs,
        ...(next ? { nextSegment: next } : {}),
      },
      body,
      {
        'content-type': contentType,
        etag: etagFor(version, await sha256Hex(body)),
        [EVENT_STATE_HEADER]: eventState,
        // Which region's origin built it, and why that one (as for segments).
        'x-candidate': `region=${chosen.region}`,
        'x-candidate-reason': chosen.reason,
        // Where the personalised fill's track list came from: asked of the origin, or the memo.
        ...(memo ? { 'x-manifest-input': inputSource(memo) } : {}),
        [CMSD_STATIC]: cmsdStatic({ ot: 'm', sf: type === 'mpd' ? 'd' : 'h', at: input.nowMs }),
      },
    );
    if (memo) {
      const age = Date.now() - fetched.fetchedAt;
      answer.freshUntil -= age;
      answer.staleUntil -= age;
    }
    return answer;
  };
  const res = await serveCached(c, {
    event,
    subject,
    // The MPD names this host (license and clock URLs): the host is part of what shapes it; so do
    // the tracks the personalisation keeps (personalKey).
    key: `${url.host}${url.pathname}${keyExtra}${personalKey}`,
    fill: async (how) => {
      const refused = await lowLatency?.before();
      if (refused) return refused;
      // Only a background refresh waits: a player that asked is never held for a playlist.
      if (!personalised || lowLatency) return written(await fetchInput(how?.background ? holdFor() : undefined));
      let memo = await memoisedInput(event, fetchInput);
      let answer = await written(memo.fetched, memo);
      // Rules may give this type a shorter TTL than the memo's: past it, ask the origin again.
      if (answer.freshUntil <= Date.now() && memo.fetched.ttlMs > 0) {
        memo = await memoisedInput(event, fetchInput, true);
        answer = await written(memo.fetched, memo);
      }
      // Not kept at all when the tracks moved since the key was told (another personalisation may
      // share that key but not these tracks).
      if (keptTrackKey(memo, personal, format, checkEmpty, carried) !== personalKey)
        answer.staleUntil = answer.freshUntil = Math.min(answer.freshUntil, Date.now());
      return answer;
    },
  });
  // Per response, not in the kept answer: personalisations with other names share its entry.
  for (const [name, value] of Object.entries(personalisationHeaders(personal))) res.headers.set(name, value);
  return res;
}

export const getMpd: RouteHandler = (c) => {
  // `?latency=low` (docs/latency.md): the LL-DASH MPD, under its own cache key and kept for P/2.
  const low = c.req.query('latency') === 'low';
  let partMs: number | undefined;
  return manifest(
    c,
    'mpd',
    (input) => {
      if (low) partMs = partDurationOf(input.config);
      return writeMpd(withLicenseUrl(input, c.req.url), {
        utcTimingUrl: new URL('/time', c.req.url).href,
        ...(low ? { lowLatency: true } : {}),
      });
    },
    'application/dash+xml',
    low ? '?ll' : '',
    low ? { before: async () => undefined, changesEveryMs: () => partMs ?? 1000 } : undefined,
  );
};

export const getMultivariantPlaylist: RouteHandler = (c) => {
  // `?latency=low` (docs/latency.md): every media playlist URI asks for the LL-HLS variant.
  const low = c.req.query('latency') === 'low';
  const withLatency = (query: string | undefined) => (low ? [query, 'latency=low'].filter(Boolean).join('&') : query);
  return manifest(
    c,
    'multivariant-playlist',
    // Media playlist URIs carry ?device= so each gets the same profile.
    (input, personal) => writeMultivariantPlaylist(input, { query: withLatency(personal.query) }),
    'application/vnd.apple.mpegurl',
    low ? '?ll' : '',
  );
};

export const getMediaPlaylist: RouteHandler = (c) => {
  const track = pathPart(TrackId, c.req.param('track'), 'track');
  // RFC 8216bis Playlist Delta Update: `_HLS_skip=YES` (or v2) asks for the short form;
  // `latency=low` the LL-HLS playlist, with blocking reloads (edge/ll-hls-query.ts).
  const query = parseLowLatencyQuery(new URL(c.req.url).searchParams);
  const { skip } = query;
  if (!query.lowLatency)
    return manifest(
      c,
      'media-playlist',
      (input) => {
        if (!input.tracks.some((t) => t.id === track))
          throw new AppError('TRACK_NOT_FOUND', `no track ${track} in event ${input.eventId}`);
        return writeMediaPlaylist(input, track, { skip });
      },
      'application/vnd.apple.mpegurl',
      lowLatencyKey(query),
      undefined,
      track,
    );
  const event = pathPart(EventId, c.req.param('event'), 'event');
  const subject = { type: 'media-playlist', event, track, path: new URL(c.req.url).pathname } as const;
  let parts: LowLatencyInput | undefined;
  return manifest(
    c,
    'media-playlist',
    (input) => {
      if (!input.tracks.some((t) => t.id === track))
        throw new AppError('TRACK_NOT_FOUND', `no track ${track} in event ${input.eventId}`);
      return writeLowLatencyMediaPlaylist(input, track, parts!, { skip, reportQuery: 'latency=low' });
    },
    'application/vnd.apple.mpegurl',
    lowLatencyKey(query),
    {
      // Parts live in each region's memory: the home region's object answers (and blocks), the
      // next region's when the home one fails or has not answered by the end of its longest
      // block (three target durations). A refusal (the block timed out, a bad query) is final:
      // the home region answered, and the same bridges feed every region.
      before: async () => {
        const block = query.msn === undefined ? undefined : { track, msn: query.msn, part: query.part };
        const chosen = await chooseRegion(c, {
          dueAtMs: block ? playlistBlockEndMs(event) : undefined,
          ask: (r) => originFor(c.env, event, r).partsView(block),
          finalRefusal: () => true,
        });
        if (!chosen.result.ok) return refusedAnswer(c.env, 'media-playlist', subject, chosen.result);
        parts = chosen.result.value;
        return undefined;
      },
      changesEveryMs: () => parts?.partDurationMs ?? 1000,
    },
  );
};

export const getInit: RouteHandler = async (c) => {
  refuseManifestFilter(new URL(c.req.url).searchParams);
  const event = pathPart(EventId, c.req.param('event'), 'event');
  const track = pathPart(TrackId, c.req.param('track'), 'track');
  const pick = await operatorPick(c);
  if (pick) {
    // A region asked for is the one whose origin answers (every region stores its own copy).
    const init = unwrap(await originFor(c.env, event, pick.region).getInit(track, pick.pipeline));
    return respond(c, init.bytes, etagFor(init.version, init.sha256), {
      'content-type': mediaType(init.kind),
      'cache-control': OPERATOR_TTL,
      [EVENT_STATE_HEADER]: init.eventState,
      'x-candidate': candidateHeader({ pipeline: init.pipeline, region: pick.region ?? regionOf(c.env), defects: [] }),
    });
  }
  const subject = { type: 'init', event, track, path: new URL(c.req.url).pathname } as const;
  return serveCached(c, {
    event,
    subject,
    key: `${track}/init.mp4`,
    fill: async () => {
      const chosen = await chooseRegion(c, { ask: (r) => originFor(c.env, event, r).getInit(track) });
      if (!chosen.result.ok) return refusedAnswer(c.env, 'init', subject, chosen.result);
      const init = chosen.result.value;
      return servedAnswer(c.env, subject, { state: 'stored' }, init.bytes, {
        'content-type': mediaType(init.kind),
        etag: etagFor(init.version, init.sha256),
        [EVENT_STATE_HEADER]: init.eventState,
        'x-candidate': candidateHeader({ pipeline: init.pipeline, region: chosen.region, defects: [] }),
        'x-candidate-reason': chosen.reason,
        [CMSD_STATIC]: cmsdStatic({ ot: 'i' }),
      });
    },
  });
};

/**
 * Caption segment K as WebVTT (HLS SUBTITLES; docs/captions.md). Written by the origin from the
 * cues overlapping K; kept briefly while late cues may still change it, then for good.
 */
export const getTextSegment: RouteHandler = async (c) => {
  refuseManifestFilter(new URL(c.req.url).searchParams);
  const event = pathPart(EventId, c.req.param('event'), 'event');
  const track = pathPart(TrackId, c.req.param('track'), 'track');
  const k = pathPart(SegmentNumber, (c.req.param('file') ?? '').replace(/\.vtt$/, ''), 'segment number');
  const subject = { type: 'text', event, track, path: new URL(c.req.url).pathname } as const;
  return serveCached(c, {
    event,
    subject,
    kind: segmentKind(event, k),
    key: `${track}/${k}.vtt`,
    fill: async () => {
      const chosen = await chooseRegion(c, {
        dueAtMs: segmentDueMs(event, k),
        ask: (r) => originFor(c.env, event, r).getTextSegment(track, k, 'vtt', r),
      });
      if (!chosen.result.ok) return refusedAnswer(c.env, 'text', subject, chosen.result);
      const segment = chosen.result.value;
      return servedAnswer(
        c.env,
        subject,
        segment.settled ? { state: 'stored' } : { state: 'settling' },
        segment.body ?? '',
        {
          'content-type': 'text/vtt; charset=utf-8',
          etag: etagFor(segment.version, segment.sha256),
          [EVENT_STATE_HEADER]: segment.eventState,
          'x-candidate': `region=${chosen.region}`,
          'x-candidate-reason': chosen.reason,
        },
      );
    },
  });
};

export const getSegment: RouteHandler = async (c) => {
  refuseManifestFilter(new URL(c.req.url).searchParams);
  const event = pathPart(EventId, c.req.param('event'), 'event');
  const track = pathPart(TrackId, c.req.param('track'), 'track');
  const k = pathPart(SegmentNumber, (c.req.param('file') ?? '').replace(/\.m4s$/, ''), 'segment number');
  const pick = await operatorPick(c);
  if (pick) {
    const region = pick.region ?? regionOf(c.env);
    const segment = unwrap(await originFor(c.env, event, region).getCandidate(track, k, pick.pipeline));
    return respond(c, segment.bytes, etagFor(segment.version, segment.sha256), {
      'content-type': mediaType(segment.kind),
      'cache-control': OPERATOR_TTL,
      'x-candidate': candidateHeader(segment.candidate),
      [EVENT_STATE_HEADER]: segment.eventState,
      // Operators (and the chaos test) compare arrival times of the pipelines' copies.
      'x-received-at': new Date(segment.receivedAt).toISOString(),
    });
  }
  // The LL-DASH template's URL (docs/latency.md): a segment still being written streams its parts.
  // Once K is due it is answered as for every player, from the edge cache, without asking the home
  // region's origin first (the origin applies the same rule when this isolate has no timing yet).
  const t = eventTimings.get(event);
  if (c.req.query('latency') === 'low' && (!t || streamsParts(k, Date.now(), t))) {
    const streamed = await chunkedSegment(c, event, track, k);
    if (streamed) return streamed;
  }
  const subject = { type: 'segment', event, track, path: new URL(c.req.url).pathname } as const;
  return serveCached(c, {
    event,
    subject,
    kind: segmentKind(event, k),
    key: `${track}/${k}.m4s`,
    fill: async () => {
      const chosen = await chooseRegion(c, {
        dueAtMs: segmentDueMs(event, k),
        ask: (r) => originFor(c.env, event, r).getSegment(track, k, r),
        defectsOf: (s) => s.candidate.defects,
      });
      const type = track.startsWith('text-') ? 'text' : 'segment';
      if (!chosen.result.ok) return refusedAnswer(c.env, type, subject, chosen.result);
      const segment = chosen.result.value;
      // Caption (stpp) segments are written from cues, which may still arrive for a K just due.
      const fact: OriginFact =
        segment.settled === false
          ? { state: 'settling' }
          : segment.candidate.defects.length > 0
            ? { state: 'defective', defects: segment.candidate.defects }
            : { state: 'stored' };
      const d = eventTimings.get(event)?.segmentDurationMs;
      return servedAnswer(c.env, { ...subject, type }, fact, segment.bytes, {
        'content-type': mediaType(segment.kind),
        etag: etagFor(segment.version, segment.sha256),
        'x-candidate': candidateHeader(segment.candidate),
        'x-candidate-reason': chosen.reason,
        // Static for every response of this object (edge/cmsd.ts); D is known once a manifest was made here.
        [CMSD_STATIC]: cmsdStatic({
          ot: objectTypeOf(segment.kind),
          at: segment.receivedAt,
          d,
          br: d ? segmentKbps(segment.bytes.byteLength, d) : undefined,
        }),
        [EVENT_STATE_HEADER]: segment.eventState,
      });
    },
  });
};
