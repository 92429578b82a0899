import { z } from 'zod';
import { expectedPublishMs } from '../contract/epoch.ts';
import { AppError } from '../contract/errors.ts';
import type { OriginFact } from '../contract/origin-facts.ts';
import { ruleSetProblem, TtlRuleSet } from '../contract/ttl-rules.ts';
import { type AnswerSubject, decideTtl, matchingRule } from './answer-policy.ts';
import { readJson } from './json-body.ts';
import { classifyLivePath } from './live-path.ts';
import type { RouteHandler } from './route-handler.ts';
import { putTtlRules, ttlRules } from './ttl-rules-store.ts';

/**
 * Operator API for TTL rules (docs/ttl-rules.md): list, put the whole set, delete one, and
 * explain what the edge would keep for a URL and why.
 */
const NO_STORE = { 'cache-control': 'no-store' };

export const getTtlRules: RouteHandler = async (c) => c.json({ rules: await ttlRules(c.env, 0) }, 200, NO_STORE);

export const putTtlRuleSet: RouteHandler = async (c) => {
  const raw = await readJson(c.req.raw, z.unknown());
  const parsed = TtlRuleSet.safeParse(raw);
  if (!parsed.success) throw new AppError('BAD_BODY', `rule set refused: ${ruleSetProblem(raw, parsed.error)}`);
  await putTtlRules(c.env, parsed.data);
  return c.json(parsed.data, 200, NO_STORE);
};

export const deleteTtlRule: RouteHandler = async (c) => {
  const id = c.req.param('id') ?? '';
  const rules = await ttlRules(c.env, 0);
  const kept = rules.filter((r) => r.id !== id);
  if (kept.length === rules.length) throw new AppError('TTL_RULE_NOT_FOUND', `no TTL rule with id "${id}"`);
  await putTtlRules(c.env, { rules: kept });
  return c.json({ rules: kept }, 200, NO_STORE);
};

const ExplainQuery = z.object({
  url: z.string().min(1, 'url: the player URL (or path) to explain'),
  /** Explain the refusal with this status instead of the 200 answer. */
  status: z.enum(['200', '404', '410', '503']).default('200'),
  segmentDurationMs: z.coerce.number().int().min(100).max(60_000).default(2000),
});

/** GET /api/ttl/explain?url=…[&status=404|410|503]: which rule fires, the TTL in ms, what the defaults say. */
export const getTtlExplain: RouteHandler = async (c) => {
  const query = ExplainQuery.safeParse(c.req.query());
  if (!query.success) throw new AppError('BAD_QUERY', query.error.issues.map((i) => i.message).join('; '));
  const { url, status, segmentDurationMs } = query.data;
  const path = new URL(url, 'http://explain.invalid').pathname;
  const object = classifyLivePath(path);
  if (!object) throw new AppError('BAD_QUERY', `url: ${path} is not a player path (/live/{event}/…)`);
  const now = Date.now();
  const fact = factToExplain(object.type, Number(status), object.k, segmentDurationMs, now);
  const subject: AnswerSubject = {
    type: status === '200' ? object.type : (status as AnswerSubject['type']),
    event: object.event,
    track: object.track,
    path,
  };
  const rules = await ttlRules(c.env, 0);
  // Explain without jitter: the middle of the range the rule allows.
  const decision = decideTtl(fact, subject, rules, now, () => 0.5);
  const defaults = decideTtl(fact, subject, [], now);
  return c.json(
    {
      url,
      subject,
      fact,
      rule: matchingRule(rules, subject) ?? null,
      ttlMs: decision.ttlMs,
      staleWhileRevalidateMs: decision.staleWhileRevalidateMs,
      cacheControl: decision.cacheControl,
      defaults: { ttlMs: defaults.ttlMs, cacheControl: defaults.cacheControl },
    },
    200,
    NO_STORE,
  );
};

/** The origin fact a typical answer of this kind carries. */
function factToExplain(type: string, status: number, k: number | undefined, d: number, now: number): OriginFact {
  if (status === 404)
    return k !== undefined ? { state: 'early', dueMs: expectedPublishMs(k, d, 0) } : { state: 'missing' };
  if (status === 410) return { state: 'gone', recent: false };
  if (status === 503) return { state: 'shed', retryAfterMs: 5000 };
  if (type === 'mpd' || type.endsWith('playlist')) return { state: 'manifest', segmentDurationMs: d };
  if (type === 'text')
    return now > expectedPublishMs(k ?? 0, d, 0) + 10_000 ? { state: 'stored' } : { state: 'settling' };
  return { state: 'stored' };
}
