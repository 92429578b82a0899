import type { OriginFact } from '../contract/origin-facts.ts';
import { globMatches, type ObjectType, type TtlRule } from '../contract/ttl-rules.ts';

/**
 * The one place that turns what the origin says (a fact) into how long an answer is kept: the
 * edge's own caches in milliseconds, downstream caches in whole seconds (`Cache-Control`), and the
 * exact figure and the rule that decided it in `x-ttl-ms` and `x-ttl-rule`. Operator rules
 * (contract/ttl-rules.ts) come first, in order; without one the defaults below apply
 * (DESIGN §4): immutable segments and inits, manifests for half a segment, a 404 until just
 * before the segment is due, 410 for a minute, 503 for 5 s.
 */

/** What is being answered, for matching rules. */
export interface AnswerSubject {
  /** The object asked for (mpd, segment, …); a refusal matches as its status ('404', '410', '503'). */
  type: ObjectType;
  event?: string;
  track?: string;
  path: string;
}

export interface TtlDecision {
  /** How long the edge keeps the answer fresh (after jitter). */
  ttlMs: number;
  /** How long after that a stale copy may be served while one request refreshes it. */
  staleWhileRevalidateMs: number;
  /** Downstream: whole seconds, never longer than the edge keeps it. */
  cacheControl: string;
  /** The rule that fired, or 'default'. */
  rule: string;
  /** What the defaults alone would have said. */
  defaultTtlMs: number;
  /** Extra headers of the answer (Retry-After). */
  headers: Record<string, string>;
}

/** The default keeps of DESIGN §4. */
export const DEFAULT_TTL_MS = {
  stored: 86_400_000,
  /** Never kept: a clean copy may arrive any moment, and the origin holds for it (DESIGN §5). */
  defective: 0,
  settling: 1000,
  missing: 1000,
  gone: 60_000,
  shed: 5000,
  /**
   * A media playlist whose next segment has ended but is not listed yet is kept this long at most:
   * the next look may find it (a background refresh waits for it at the origin meanwhile).
   */
  playlistRecheck: 250,
  /** A 404 for a segment not yet due expires this long before it is due, and lasts at most MAX_EARLY_TTL_MS. */
  earlyMarginMs: 500,
  maxEarlyTtlMs: 300_000,
} as const;

/** The object type an answer with this status matches as (refusals match by status). */
export function subjectType(objectType: ObjectType, status: number): ObjectType {
  if (status === 404 || status === 410 || status === 503) return String(status) as ObjectType;
  return objectType;
}

export function defaultTtlMs(fact: OriginFact, nowMs: number): number {
  switch (fact.state) {
    case 'stored':
      return DEFAULT_TTL_MS.stored;
    case 'defective':
      return DEFAULT_TTL_MS.defective;
    case 'settling':
      return DEFAULT_TTL_MS.settling;
    case 'manifest':
      return manifestTtlMs(fact, nowMs);
    case 'early':
      return earlyLimitMs(fact.dueMs, nowMs);
    case 'gone':
      return fact.recent ? 0 : DEFAULT_TTL_MS.gone;
    case 'missing':
      return DEFAULT_TTL_MS.missing;
    case 'shed':
      return fact.retryAfterMs;
    case 'private':
      return 0;
  }
}

/**
 * Half a segment; for a media playlist (which changes when its next segment is published, not at a
 * fixed rate) no longer than until that segment ends: a playlist kept past the publish would hide
 * the newest segment from every player it is served to, for up to D/2 (about half a second of
 * extra latency on average for standard-latency HLS players at scale). Between its end and its
 * due time, briefly.
 */
function manifestTtlMs(fact: Extract<OriginFact, { state: 'manifest' }>, nowMs: number): number {
  const half = Math.max(0, Math.floor(fact.segmentDurationMs / 2));
  if (!fact.nextSegment) return half;
  const untilEnd = fact.nextSegment.endsAtMs - nowMs;
  if (untilEnd > 0) return Math.min(half, untilEnd);
  // Past its due time the segment is late or lost (a pipeline down): nothing is expected any
  // moment, so half a segment again rather than asking the origin four times a second.
  if (nowMs >= fact.nextSegment.dueAtMs) return half;
  return Math.min(half, DEFAULT_TTL_MS.playlistRecheck);
}

/**
 * While a media playlist's next segment is between its end and its due time, the playlist kept
 * may be served while one request waits at the origin for the segment: it is the newest truth
 * until the segment lands, and the refresh brings the new playlist the moment it does.
 */
function manifestStaleMs(fact: OriginFact, ttlMs: number, nowMs: number): number {
  if (fact.state !== 'manifest' || !fact.nextSegment) return 0;
  // Kept only half a segment, well before the next one ends: refetched then as usual (another
  // change, an ad break, shows within D/2).
  if (nowMs + ttlMs < fact.nextSegment.endsAtMs) return 0;
  return Math.max(0, fact.nextSegment.dueAtMs - (nowMs + ttlMs));
}

/** A 404 for a segment not yet due must be gone from every cache before the segment is due. */
function earlyLimitMs(dueMs: number, nowMs: number): number {
  return Math.min(DEFAULT_TTL_MS.maxEarlyTtlMs, Math.max(0, dueMs - nowMs - DEFAULT_TTL_MS.earlyMarginMs));
}

export function matchingRule(rules: readonly TtlRule[], subject: AnswerSubject): TtlRule | undefined {
  return rules.find((rule) => {
    const m = rule.match;
    if (m.type && !m.type.includes(subject.type)) return false;
    if (m.event && !(subject.event !== undefined && globMatches(m.event, subject.event))) return false;
    if (m.track && !(subject.track !== undefined && globMatches(m.track, subject.track))) return false;
    if (m.path && !globMatches(m.path, subject.path)) return false;
    return true;
  });
}

export function decideTtl(
  fact: OriginFact,
  subject: AnswerSubject,
  rules: readonly TtlRule[],
  nowMs: number,
  random: () => number = Math.random,
): TtlDecision {
  const headers: Record<string, string> = {};
  if (fact.state === 'shed') headers['retry-after'] = String(Math.max(1, Math.ceil(fact.retryAfterMs / 1000)));
  const defaultTtl = defaultTtlMs(fact, nowMs);
  // Operator views are never shared, whatever a rule says.
  if (fact.state === 'private') {
    return {
      ttlMs: 0,
      staleWhileRevalidateMs: 0,
      cacheControl: 'private, no-store',
      rule: 'default',
      defaultTtlMs: 0,
      headers,
    };
  }
  const rule = matchingRule(rules, subject);
  let ttlMs = rule ? rule.ttlMs : defaultTtl;
  if (rule && rule.jitterPercent > 0) ttlMs = Math.round(ttlMs * (1 + ((random() * 2 - 1) * rule.jitterPercent) / 100));
  // No rule may keep "not yet" past the moment the segment is due: players would miss it.
  if (fact.state === 'early') ttlMs = Math.min(ttlMs, earlyLimitMs(fact.dueMs, nowMs));
  const staleWhileRevalidateMs =
    fact.state === 'early' ? 0 : (rule?.staleWhileRevalidateMs ?? manifestStaleMs(fact, ttlMs, nowMs));
  const seconds = Math.floor(ttlMs / 1000);
  let cacheControl = seconds > 0 ? `public, max-age=${seconds}` : 'no-store';
  if (seconds > 0 && !rule && fact.state === 'stored') cacheControl += ', immutable';
  // Downstream only a rule's: the edge's own wait for a playlist's next segment stays here.
  if (seconds > 0 && rule && staleWhileRevalidateMs >= 1000)
    cacheControl += `, stale-while-revalidate=${Math.floor(staleWhileRevalidateMs / 1000)}`;
  return {
    ttlMs,
    staleWhileRevalidateMs,
    cacheControl,
    rule: rule?.id ?? 'default',
    defaultTtlMs: defaultTtl,
    headers,
  };
}

/** The headers every kept answer carries: downstream Cache-Control and the exact figure. */
export function ttlHeaders(decision: TtlDecision): Record<string, string> {
  return {
    ...decision.headers,
    'cache-control': decision.cacheControl,
    'x-ttl-ms': String(decision.ttlMs),
    'x-ttl-rule': decision.rule,
  };
}
