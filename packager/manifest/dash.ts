import { resolveLatency } from '../../contract/latency.ts';
import { resolveLowLatency } from '../../contract/low-latency.ts';
import { manifestSplices, nextEventSplices } from '../../contract/splices.ts';
import type { ManifestInput, TrackDescriptor } from '../../contract/track.ts';
import { audioFrameSamples, codecGroupKey } from './codecs.ts';
import { contentProtection, DRM_NAMESPACES } from './dash-drm.ts';
import { escapeXml } from '../xml/escape-xml.ts';
import { eventStream } from './splice-markers.ts';

export interface MpdOptions {
  /** Absolute or page-relative URL of the clock endpoint (the Worker serves `/time`). */
  utcTimingUrl?: string;
  /** Emitted as the MPD-level BaseURL; segment URLs resolve against it instead of the MPD's own URL. */
  baseUrl?: string;
  /** Query string (without `?`) appended to every segment and init URL, e.g. a player token. */
  query?: string;
  /**
   * LL-DASH (docs/latency.md): audio and video templates announce each segment once its first
   * part exists (availabilityTimeOffset = D − P, availabilityTimeComplete="false") at the chunked
   * URL `{K}.m4s?latency=low`, with a ProducerReferenceTime and the low-latency ServiceDescription.
   * Ignored once the event has ended.
   */
  lowLatency?: boolean;
}

const PROFILES = 'urn:mpeg:dash:profile:isoff-live:2011,urn:mpeg:dash:profile:cmaf:2019';

/**
 * Write the DASH MPD for one instant of an event.
 *
 * Everything hangs off the epoch anchor: availabilityStartTime is 1970-01-01, the Period starts
 * at 0, startNumber is 0 and presentationTimeOffset is 0. Segment K covers [K·D, (K+1)·D) since
 * the Unix epoch and its tfdt is K·D·timescale, so $Number$ = K and media time = UTC seconds.
 * Both pipelines, every region and every edge produce byte-identical MPDs from the same input.
 *
 * When the event has ended the MPD turns static and describes only the DVR window. Its Period
 * starts at firstSegment·D with presentationTimeOffset firstSegment·D·timescale: the media-to-
 * presentation mapping stays exactly the same as in the live MPD (media time = presentation
 * time), so a player that was watching live keeps its timeline.
 */
export function writeMpd(input: ManifestInput, opts: MpdOptions = {}): string {
  const D = input.config.segmentDurationMs;
  const av = input.tracks.filter((t) => t.kind === 'video' || t.kind === 'audio');
  const text = input.tracks.filter((t) => t.kind === 'text');
  const ended = input.ended === true;
  const first = ended ? Math.max(0, input.firstSegment) : 0;
  const ll = opts.lowLatency && !ended ? resolveLowLatency(input.config) : undefined;
  const ctx: TemplateContext = {
    D,
    startNumber: first,
    query: opts.query,
    // The producer reference: the oldest listed segment's start, K·D in media time and in UTC.
    ll: ll && { offsetMs: D - ll.partDurationMs, referenceK: Math.max(0, input.firstSegment) },
  };

  const mpdAttrs: Attrs = {
    xmlns: 'urn:mpeg:dash:schema:mpd:2011',
    id: input.eventId,
    profiles: PROFILES,
    type: ended ? 'static' : 'dynamic',
  };
  if (av.some((t) => t.drm)) Object.assign(mpdAttrs, DRM_NAMESPACES);
  if (ended) {
    // The presentation runs to the end of the last segment every audio/video track has, so no
    // player waits at the end for a segment one track never produced.
    const lasts = av.map((t) => input.lastSegmentByTrack[t.id]).filter((k) => k !== undefined);
    const last = lasts.length > 0 ? Math.min(...lasts) : first - 1;
    mpdAttrs.publishTime = isoSeconds(input.nowMs);
    mpdAttrs.mediaPresentationDuration = duration(Math.max(first, last + 1) * D);
  } else {
    mpdAttrs.availabilityStartTime = '1970-01-01T00:00:00Z';
    mpdAttrs.publishTime = isoSeconds(input.nowMs);
    mpdAttrs.minimumUpdatePeriod = duration(D);
    mpdAttrs.timeShiftBufferDepth = duration(timeShiftBufferMs(input));
    // The same figure as Latency@target, for players that read only this (docs/manifests.md).
    mpdAttrs.suggestedPresentationDelay = duration((ll ?? resolveLatency(input.config)).targetMs);
  }
  mpdAttrs.maxSegmentDuration = duration(D + Math.max(0, ...av.map(longestFrameMs)));
  mpdAttrs.minBufferTime = duration(D);

  // Ad breaks of this event (SCTE-35) before its AdaptationSets, as the schema orders a Period.
  const breaks = eventStream(manifestSplices(input.splices ?? [], input), first * D);
  const period = el('Period', { id: 'p0', start: duration(first * D) }, [
    ...(breaks ? [breaks] : []),
    ...adaptationSets([...av, ...text], ctx),
  ]);
  const body: string[] = [];
  if (opts.baseUrl !== undefined) body.push(el('BaseURL', {}, [escapeXml(opts.baseUrl)]));
  if (!ended) body.push(serviceDescription(input, ll && av.length > 0));
  body.push(period);
  const next = input.next;
  if (
    !ended &&
    next?.input &&
    next.input.config.segmentDurationMs === D &&
    Object.keys(next.input.lastSegmentByTrack).length > 0
  ) {
    // Back-to-back event: a Period that starts at atK·D and addresses the next event's media
    // (`../{next}/` from this MPD's URL). Number K still starts at K·D in media time, so the
    // template only moves its anchor: startNumber K, presentationTimeOffset K·D·timescale.
    const nextAv = next.input.tracks.filter((t) => t.kind === 'video' || t.kind === 'audio' || t.kind === 'text');
    if (nextAv.some((t) => t.drm)) Object.assign(mpdAttrs, DRM_NAMESPACES);
    // A next event that started after atK takes over at its first segment (this event's own
    // segments keep coming until then), so the new Period never addresses a K it never made.
    const startK = Math.max(next.atK, next.input.firstSegment);
    const nextCtx: TemplateContext = { D, startNumber: startK, query: opts.query };
    // The next event's own ad breaks, in its Period (after BaseURL, as the schema orders it).
    const nextBreaks = eventStream(nextEventSplices(input), startK * D);
    body.push(
      el('Period', { id: `p1-${next.eventId}`, start: duration(startK * D) }, [
        el('BaseURL', {}, [escapeXml(`../${next.eventId}/`)]),
        ...(nextBreaks ? [nextBreaks] : []),
        ...adaptationSets(nextAv, nextCtx),
      ]),
    );
  }
  if (!ended && opts.utcTimingUrl !== undefined) {
    body.push(el('UTCTiming', { schemeIdUri: 'urn:mpeg:dash:utc:http-iso:2014', value: opts.utcTimingUrl }));
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n${el('MPD', mpdAttrs, body)}\n`;
}

/**
 * Where players should sit (ServiceDescription, ISO/IEC 23009-1 5th ed.; DASH-IF IOP): Latency
 * target/min/max in milliseconds of wall clock behind the capture time, and the playback rates a
 * player may use to catch up. dash.js starts at Latency@target (ahead of suggestedPresentationDelay),
 * seeks back to it beyond max + 0.5 s and, with catch-up on, plays within PlaybackRate to stay there.
 * The standard MPD has no Latency@referenceId: there is no ProducerReferenceTime; the epoch anchor
 * already makes presentation time the capture time. The LL-DASH MPD has both (DASH-IF low-latency
 * guidelines), its ProducerReferenceTimes saying exactly that, and its low-latency figures.
 */
function serviceDescription(input: ManifestInput, lowLatency?: boolean): string {
  const l = lowLatency ? resolveLowLatency(input.config) : resolveLatency(input.config);
  // The first AdaptationSet (id 0) is an audio or video one and carries a ProducerReferenceTime of id 0.
  const reference = lowLatency ? { referenceId: '0' } : {};
  return el('ServiceDescription', { id: '0' }, [
    el('Latency', { ...reference, target: String(l.targetMs), min: String(l.minMs), max: String(l.maxMs) }),
    el('PlaybackRate', { min: String(l.playbackRate.min), max: String(l.playbackRate.max) }),
  ]);
}

/**
 * One video AdaptationSet per codec family (AVC, HEVC, AV1: a player switches seamlessly only
 * within one decoder, and one that cannot decode HEVC drops that set and keeps the others), one
 * audio AdaptationSet per language, declared roles and codec family, and one per caption language.
 */
function adaptationSets(av: TrackDescriptor[], ctx: TemplateContext): string[] {
  const sets: string[] = [];
  let setId = 0;
  const video = groupBy(
    av.filter((t) => t.kind === 'video'),
    (t) => codecGroupKey(t.codecs),
  );
  for (const group of video)
    sets.push(
      videoSet(
        setId++,
        group.sort((a, b) => a.bandwidth - b.bandwidth),
        ctx,
      ),
    );
  // The first language (and roles) is "main" in every codec it comes in.
  const groups = audioGroups(av.filter((t) => t.kind === 'audio'));
  const mainKey = groups[0] && languageKey(groups[0][0]);
  for (const group of groups) sets.push(audioSet(setId++, group, languageKey(group[0]) === mainKey, ctx));
  // Captions have no parts: their template stays the standard one.
  for (const t of av.filter((x) => x.kind === 'text')) sets.push(textSet(setId++, t, { ...ctx, ll: undefined }));
  return sets;
}

interface TemplateContext {
  D: number;
  startNumber: number;
  query?: string;
  /** LL-DASH: availabilityTimeOffset (D − P) and the segment whose start is the producer reference. */
  ll?: { offsetMs: number; referenceK: number };
}

/**
 * Advertise only what exists: the configured DVR window, or less while the event is younger than
 * that, so no player seeks back to segments that were never produced (they would answer 410).
 */
function timeShiftBufferMs(input: ManifestInput): number {
  const D = input.config.segmentDurationMs;
  const existing = input.nowMs - input.firstSegment * D;
  return Math.max(D, Math.min(input.config.dvrWindowSeconds * 1000, existing));
}

function videoSet(id: number, tracks: TrackDescriptor[], ctx: TemplateContext): string {
  const fastest = tracks
    .filter((t) => t.frameRate !== undefined)
    .sort((a, b) => frameRateValue(b.frameRate) - frameRateValue(a.frameRate))[0];
  const attrs: Attrs = {
    id: String(id),
    contentType: 'video',
    mimeType: 'video/mp4',
    segmentAlignment: 'true',
    startWithSAP: '1',
    maxWidth: maxOf(tracks.map((t) => t.width)),
    maxHeight: maxOf(tracks.map((t) => t.height)),
    maxFrameRate: fastest?.frameRate,
  };
  const head = contentProtection(tracks, el, escapeXml);
  const reps = (template: boolean) =>
    tracks.map((t) =>
      el(
        'Representation',
        {
          id: t.id,
          bandwidth: String(t.bandwidth),
          codecs: t.codecs,
          width: num(t.width),
          height: num(t.height),
          frameRate: t.frameRate,
          sar: '1:1',
        },
        template ? [...producerReference(id, t.timescale, ctx), segmentTemplate(t.timescale, ctx)] : [],
      ),
    );
  return withTemplate(id, attrs, head, [], tracks, ctx, reps);
}

function audioSet(id: number, tracks: TrackDescriptor[], isMain: boolean, ctx: TemplateContext): string {
  const lang = tracks[0].language;
  const attrs: Attrs = {
    id: String(id),
    contentType: 'audio',
    lang: lang !== undefined && LANGUAGE.test(lang) ? lang : undefined,
    mimeType: 'audio/mp4',
    segmentAlignment: 'true',
    startWithSAP: '1',
  };
  // Schema order inside an AdaptationSet: Label (RepresentationBase) before Role.
  const head: string[] = contentProtection(tracks, el, escapeXml);
  if (tracks[0].label !== undefined) head.push(el('Label', {}, [escapeXml(tracks[0].label)]));
  // Declared roles win (e.g. an audio-description track); otherwise the first language is "main".
  // Role follows ProducerReferenceTime (RepresentationBase) in the schema's order.
  const roles = (tracks[0].roles ?? (isMain ? ['main'] : [])).map((value) =>
    el('Role', { schemeIdUri: 'urn:mpeg:dash:role:2011', value }),
  );
  const reps = (template: boolean) =>
    tracks.map((t) => {
      const children: string[] = [];
      if (t.channels !== undefined) {
        children.push(
          el('AudioChannelConfiguration', {
            schemeIdUri: 'urn:mpeg:dash:23003:3:audio_channel_configuration:2011',
            value: String(t.channels),
          }),
        );
      }
      if (template) children.push(...producerReference(id, t.timescale, ctx), segmentTemplate(t.timescale, ctx));
      return el(
        'Representation',
        { id: t.id, bandwidth: String(t.bandwidth), codecs: t.codecs, audioSamplingRate: num(t.sampleRate) },
        children,
      );
    });
  return withTemplate(id, attrs, head, roles, tracks, ctx, reps);
}

/**
 * A caption language: IMSC1 text profile in fMP4 (stpp.ttml.im1t), one sample per segment, on
 * the same $Number$ = K template as the media (docs/captions.md).
 */
function textSet(id: number, t: TrackDescriptor, ctx: TemplateContext): string {
  const attrs: Attrs = {
    id: String(id),
    contentType: 'text',
    lang: t.language !== undefined && LANGUAGE.test(t.language) ? t.language : undefined,
    mimeType: 'application/mp4',
    segmentAlignment: 'true',
    startWithSAP: '1',
  };
  const head: string[] = [];
  if (t.label !== undefined) head.push(el('Label', {}, [escapeXml(t.label)]));
  head.push(el('Role', { schemeIdUri: 'urn:mpeg:dash:role:2011', value: 'subtitle' }));
  return el('AdaptationSet', attrs, [
    ...head,
    segmentTemplate(t.timescale, ctx),
    el('Representation', { id: t.id, bandwidth: String(t.bandwidth), codecs: t.codecs }),
  ]);
}

/**
 * One SegmentTemplate on the AdaptationSet when all its tracks share a timescale, else one per
 * Representation; `afterHead` (Roles) follows the set's ProducerReferenceTime.
 */
function withTemplate(
  id: number,
  attrs: Attrs,
  head: string[],
  afterHead: string[],
  tracks: TrackDescriptor[],
  ctx: TemplateContext,
  reps: (perRep: boolean) => string[],
): string {
  const shared = tracks.every((t) => t.timescale === tracks[0].timescale);
  return el(
    'AdaptationSet',
    attrs,
    shared
      ? [
          ...head,
          ...producerReference(id, tracks[0].timescale, ctx),
          ...afterHead,
          segmentTemplate(tracks[0].timescale, ctx),
          ...reps(false),
        ]
      : [...head, ...afterHead, ...reps(true)],
  );
}

/**
 * The template timescale need not be the track's; fall back to milliseconds when D is not a
 * whole number of the track's ticks (the template only has to express D and the offset).
 */
function templateTimescale(trackTimescale: number, D: number): number {
  return Number.isInteger((D * trackTimescale) / 1000) ? trackTimescale : 1000;
}

function segmentTemplate(trackTimescale: number, ctx: TemplateContext): string {
  const timescale = templateTimescale(trackTimescale, ctx.D);
  const ticks = (ctx.D * timescale) / 1000;
  // `$` is the template escape character: a literal one in a token must be doubled.
  const q = ctx.query ? `?${ctx.query.replaceAll('$', '$$$$')}` : '';
  // LL-DASH segments are asked for at the chunked URL (the init is the same for both modes).
  const mediaQuery = ctx.ll ? (q ? `${q}&latency=low` : '?latency=low') : q;
  return el('SegmentTemplate', {
    timescale: String(timescale),
    duration: String(ticks),
    startNumber: String(ctx.startNumber),
    // K·D·timescale stays below 2^53 for millennia at 90 kHz, so plain numbers are exact here.
    presentationTimeOffset: String(ctx.startNumber * ticks),
    // A segment can be asked for once its first part exists: D − P before its end (ISO/IEC 23009-1
    // 5.3.9.5.3); "false": it is then still being written, so it comes in chunks.
    availabilityTimeOffset: ctx.ll ? String(Math.round(ctx.ll.offsetMs) / 1000) : undefined,
    availabilityTimeComplete: ctx.ll ? 'false' : undefined,
    media: `$RepresentationID$/$Number$.m4s${mediaQuery}`,
    initialization: `$RepresentationID$/init.mp4${q}`,
  });
}

/**
 * LL-DASH ProducerReferenceTime (type encoder): the wall clock at which media time K·D was made is
 * UTC K·D, the epoch anchor itself, said for players that measure latency from it. In the
 * template's timescale; one per AdaptationSet (or Representation, with its own template), id = the
 * set's id.
 */
function producerReference(id: number, trackTimescale: number, ctx: TemplateContext): string[] {
  if (!ctx.ll) return [];
  const timescale = templateTimescale(trackTimescale, ctx.D);
  const k = ctx.ll.referenceK;
  return [
    el('ProducerReferenceTime', {
      id: String(id),
      type: 'encoder',
      wallClockTime: new Date(k * ctx.D).toISOString(),
      presentationTime: String((k * ctx.D * timescale) / 1000),
    }),
  ];
}

/**
 * Audio tracks grouped by language, declared roles (a description track is its own set) and codec
 * family (AAC and E-AC-3 of one language are two sets), in order of first appearance.
 */
function audioGroups(tracks: TrackDescriptor[]): TrackDescriptor[][] {
  return groupBy(tracks, (t) => `${languageKey(t)}|${codecGroupKey(t.codecs)}`).map((g) =>
    g.sort((a, b) => a.bandwidth - b.bandwidth),
  );
}

function languageKey(t: TrackDescriptor): string {
  return `${t.language ?? 'und'}|${t.roles?.join('+') ?? ''}`;
}

/** Items grouped by key, groups in order of first appearance, items in their order. */
function groupBy<T>(items: T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    groups.set(k, [...(groups.get(k) ?? []), item]);
  }
  return [...groups.values()];
}

/** The longest single frame a track can add to a segment (segments start at the first frame at or after K·D). */
function longestFrameMs(t: TrackDescriptor): number {
  if (t.kind === 'video' && t.frameRate !== undefined) return Math.ceil(1000 / frameRateValue(t.frameRate));
  if (t.kind === 'audio' && t.sampleRate) return Math.ceil((audioFrameSamples(t.codecs) * 1000) / t.sampleRate);
  return 0;
}

function frameRateValue(rate: string | undefined): number {
  if (rate === undefined) return 0;
  const [n, d = '1'] = rate.split('/');
  return Number(n) / Number(d);
}

/** xs:language, which the schema enforces on AdaptationSet@lang. */
const LANGUAGE = /^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$/;

type Attrs = Record<string, string | undefined>;

function el(name: string, attrs: Attrs, children: string[] = []): string {
  const a = Object.entries(attrs)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
  if (children.length === 0) return `<${name}${a}/>`;
  if (children.length === 1 && !children[0].startsWith('<')) return `<${name}${a}>${children[0]}</${name}>`;
  return `<${name}${a}>\n${children.map(indent).join('\n')}\n</${name}>`;
}

function indent(block: string): string {
  return block
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

/** xs:duration in seconds with at most millisecond precision: PT2S, PT1.5S, PT1763000000S. */
function duration(ms: number): string {
  const s = (Math.round(ms) / 1000).toFixed(3).replace(/\.?0+$/, '');
  return `PT${s}S`;
}

/** publishTime at whole-second precision keeps MPDs generated within the same second identical (cache friendly). */
function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function num(n: number | undefined): string | undefined {
  return n === undefined ? undefined : String(n);
}

function maxOf(values: (number | undefined)[]): string | undefined {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length > 0 ? String(Math.max(...known)) : undefined;
}
