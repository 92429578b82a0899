import { type TtlRule, TtlRuleSet } from '../contract/ttl-rules.ts';

/** The KV key of the rule set (binding CONFIG). */
export const TTL_RULES_KEY = 'ttl-rules';

/**
 * How long this isolate trusts the rules it read. KV itself takes about a minute to carry a
 * change between locations; a short memo keeps KV reads off the hot path (one per isolate per
 * interval) without adding much to that.
 */
const MEMO_MS = 5000;
let memo: { rules: TtlRule[]; readAt: number } | undefined;

/** The operator's TTL rules, in order (none: the defaults of edge/answer-policy.ts). */
export async function ttlRules(env: Env, nowMs = Date.now()): Promise<TtlRule[]> {
  if (memo && nowMs - memo.readAt < MEMO_MS) return memo.rules;
  const raw = await env.CONFIG.get(TTL_RULES_KEY, 'json');
  // What is stored was validated when it was put; a set that no longer parses (an older schema)
  // is ignored rather than trusted, and the defaults apply.
  const parsed = TtlRuleSet.safeParse(raw ?? { rules: [] });
  memo = { rules: parsed.success ? parsed.data.rules : [], readAt: nowMs };
  return memo.rules;
}

export async function putTtlRules(env: Env, set: TtlRuleSet): Promise<void> {
  await env.CONFIG.put(TTL_RULES_KEY, JSON.stringify(set));
  memo = { rules: set.rules, readAt: Date.now() };
}
