import { z } from 'zod';

/**
 * Operator TTL rules (docs/ttl-rules.md): which answers the edge keeps, and for how long, in its
 * own caches (milliseconds) and in the caches downstream of it (`Cache-Control`, whole seconds).
 * Stored whole in Workers KV; a rule set is validated whole and refused whole, with a message that
 * names the rule and the field.
 */

/** What an answer is, for matching: the object asked for, or the status class of a refusal. */
export const ObjectType = z.enum([
  'multivariant-playlist',
  'media-playlist',
  'mpd',
  'init',
  'segment',
  'text',
  '404',
  '410',
  '503',
]);
export type ObjectType = z.infer<typeof ObjectType>;

/** `*` matches any run of characters, `?` one; everything else is literal. */
const Glob = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x21-\x7e]+$/, 'a glob of printable ASCII without spaces (* and ? are wildcards)');

/** The most any rule may keep an answer: a year. */
export const MAX_TTL_MS = 365 * 24 * 3600 * 1000;

export const TtlRule = z
  .object({
    /** Unique name of the rule, shown in `x-ttl-rule` and by explain. */
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'rule id: 1-64 chars of a-z, 0-9, "_" and "-"'),
    /** All given conditions must hold; an empty match matches everything. */
    match: z
      .object({
        type: z.array(ObjectType).min(1).optional(),
        event: Glob.optional(),
        track: Glob.optional(),
        /** Against the request path, e.g. `/live/*\/v1/*.m4s`. */
        path: Glob.optional(),
      })
      .strict()
      .default({}),
    /** How long the answer is fresh, in milliseconds (0: never kept). */
    ttlMs: z.number().int().min(0).max(MAX_TTL_MS),
    /** After the TTL, how long a stale copy may still be served while one request refreshes it. */
    staleWhileRevalidateMs: z.number().int().min(0).max(MAX_TTL_MS).default(0),
    /** Random ± spread of the TTL, in percent, so copies filled together do not expire together. */
    jitterPercent: z.number().min(0).max(50).default(0),
  })
  .strict();
export type TtlRule = z.infer<typeof TtlRule>;

export const TtlRuleSet = z
  .object({ rules: z.array(TtlRule).max(200) })
  .strict()
  .superRefine((set, ctx) => {
    const seen = new Set<string>();
    set.rules.forEach((rule, i) => {
      if (seen.has(rule.id))
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate id "${rule.id}"` });
      seen.add(rule.id);
    });
  });
export type TtlRuleSet = z.infer<typeof TtlRuleSet>;

/** A readable reason for a refused rule set: `rules[2] (id "dvr-long").ttlMs: …`. */
export function ruleSetProblem(input: unknown, error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      const [first, index, ...rest] = issue.path;
      if (first === 'rules' && typeof index === 'number') {
        const id = (input as { rules?: { id?: unknown }[] })?.rules?.[index]?.id;
        const name = typeof id === 'string' ? ` (id "${id}")` : '';
        return `rules[${index}]${name}${rest.length ? `.${rest.join('.')}` : ''}: ${issue.message}`;
      }
      return `${issue.path.join('.') || 'body'}: ${issue.message}`;
    })
    .join('; ');
}

/** Does `glob` match all of `text`? */
export function globMatches(glob: string, text: string): boolean {
  const pattern = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${pattern}$`).test(text);
}
