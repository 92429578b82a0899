import { errorCodes } from '../contract/errors.ts';
import { EVENT_STATE_HEADER, parseEventState } from '../contract/event-state.ts';
import type { OriginFact } from '../contract/origin-facts.ts';
import type { ObjectType } from '../contract/ttl-rules.ts';
import type { OriginResult } from '../origin/result.ts';
import { type AnswerSubject, decideTtl, subjectType, ttlHeaders } from './answer-policy.ts';
import { CMSD_DYNAMIC, edgeCmsdDynamic } from './cmsd.ts';
import { type AnswerSource, edgeCache, type Fill, ShedAtEdge } from './edge-cache.ts';
import { admitMiss, edgeLoadLimits } from './edge-load.ts';
import { matchesIfNoneMatch } from './etag.ts';
import { rememberedEventState } from './event-state-memory.ts';
import type { CachedAnswer } from './hot-cache.ts';
import type { Ctx } from './route-handler.ts';
import { ttlRules } from './ttl-rules-store.ts';

/**
 * Player answers through the edge shield: build the answer once from what the origin said (a
 * fact, turned into TTLs by edge/answer-policy.ts and the operator's rules), keep it in the edge
 * cache, and make each player's Response from it (304 for a matching If-None-Match).
 */

export interface AnswerSpec {
  event: string;
  /** What the cache key adds to the event and its version: the object and what shapes the bytes. */
  key: string;
  /** What is asked for (the shed answer's TTL rule matches it). */
  subject: AnswerSubject;
  /** DVR misses are shed first under load (edge/edge-load.ts). */
  kind?: 'live' | 'dvr';
  fill: Fill;
}

/** A served answer: bytes, the fact that says how long they are good, and headers. */
export async function servedAnswer(
  env: Env,
  subject: AnswerSubject,
  fact: OriginFact,
  body: Uint8Array | string,
  headers: Record<string, string>,
): Promise<CachedAnswer> {
  const now = Date.now();
  const decision = decideTtl(fact, subject, await ttlRules(env, now), now);
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  return {
    status: 200,
    headers: Object.entries({ ...headers, ...ttlHeaders(decision) }),
    body: bytes,
    freshUntil: now + decision.ttlMs,
    staleUntil: now + decision.ttlMs + decision.staleWhileRevalidateMs,
  };
}

/** An origin refusal as a kept answer: the error body of http-errors.ts, its TTL from the fact. */
export async function refusedAnswer(
  env: Env,
  objectType: ObjectType,
  subject: Omit<AnswerSubject, 'type'>,
  refusal: Extract<OriginResult<unknown>, { ok: false }>,
): Promise<CachedAnswer> {
  const now = Date.now();
  const { id, status } = errorCodes[refusal.code];
  const fact: OriginFact = refusal.fact ?? { state: 'missing' };
  const decision = decideTtl(
    fact,
    { ...subject, type: subjectType(objectType, status) },
    await ttlRules(env, now),
    now,
  );
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    ...ttlHeaders(decision),
  };
  const eventState = refusal.headers?.[EVENT_STATE_HEADER];
  if (eventState) headers[EVENT_STATE_HEADER] = eventState;
  return {
    status,
    headers: Object.entries(headers),
    body: new TextEncoder().encode(JSON.stringify({ error: { code: refusal.code, id, message: refusal.message } })),
    freshUntil: now + decision.ttlMs,
    staleUntil: now + decision.ttlMs + decision.staleWhileRevalidateMs,
  };
}

/**
 * Operator controls that went through this isolate (a mask, a version bump, a window change, …)
 * make it forget what it keeps for that event at once: the next player request here sees the
 * change. Other isolates and data centres see it when their copies expire (manifests: about D/2);
 * a version bump, seen on the next manifest, invalidates everything everywhere (docs/edge-shield.md).
 */
const generations = new Map<string, number>();

export function forgetEvent(event: string): void {
  generations.set(event, (generations.get(event) ?? 0) + 1);
}

/** How many times this isolate forgot the event (what else it keeps for the event, edge/personalised-input.ts, follows it). */
export const generationOf = (event: string): number => generations.get(event) ?? 0;

/**
 * The Response for this request. The cache key carries the event version this isolate knows
 * (x-event-state `v`), so a version bump, seen on the next manifest fill, bypasses every answer
 * kept under the old one at once; never a token, CMCD or anything per viewer.
 */
export async function serveCached(c: Ctx, spec: AnswerSpec): Promise<Response> {
  const started = Date.now();
  const keyFor = (version: number | '?') =>
    `${spec.event}|v${version}|g${generations.get(spec.event) ?? 0}|${spec.key}`;
  const known = rememberedEventState(spec.event)?.state.version ?? '?';
  const fill: Fill = async (how) => {
    const filled = await spec.fill(how);
    // The first answer of an event teaches this isolate its version: keep it under that key too,
    // or the next request (which knows the version) would miss.
    const version = parseEventState(new Headers(filled.headers).get(EVENT_STATE_HEADER))?.version;
    if (version !== undefined && version !== known && filled.staleUntil > Date.now())
      edgeCache.hot.put(keyFor(version), filled);
    return filled;
  };
  const limits = edgeLoadLimits(c.env);
  let kept: { answer: CachedAnswer; source: AnswerSource | 'shed' };
  try {
    kept = await edgeCache.answer(
      keyFor(known),
      fill,
      (p) => c.executionCtx.waitUntil(p),
      (inFlight) => admitMiss(inFlight, spec.kind ?? 'live', limits),
    );
  } catch (err) {
    if (!(err instanceof ShedAtEdge)) throw err;
    const { type, ...subject } = spec.subject;
    const shed = await refusedAnswer(c.env, type, subject, {
      ok: false,
      code: 'OVERLOADED',
      message: `the edge is shedding ${spec.kind === 'dvr' ? 'DVR' : 'live-edge'} requests; retry in 5 s`,
      fact: { state: 'shed', retryAfterMs: 5000 },
    });
    kept = { answer: shed, source: 'shed' };
  }
  const { answer, source } = kept;
  const headers = new Headers(answer.headers);
  headers.set('x-cache', source);
  // CMSD-Dynamic describes this hop and this response (edge/cmsd.ts): written here, never kept.
  headers.set(CMSD_DYNAMIC, edgeCmsdDynamic(c.req.raw, spec.event, source, started, limits));
  // The kept copy may carry an older pipeline state than this isolate has seen since: the state
  // header is cumulative, so the newest one goes out.
  const newest = rememberedEventState(spec.event);
  const carried = parseEventState(headers.get(EVENT_STATE_HEADER));
  if (newest && (!carried || newest.state.t > carried.t)) headers.set(EVENT_STATE_HEADER, newest.header);
  const etag = headers.get('etag');
  if (answer.status === 200 && etag && matchesIfNoneMatch(c.req.header('if-none-match'), etag)) {
    headers.delete('content-type');
    return new Response(null, { status: 304, headers });
  }
  return new Response(answer.body as Uint8Array<ArrayBuffer> | null, { status: answer.status, headers });
}
