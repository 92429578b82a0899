/**
 * `npm run token -- ingest <event> [pipeline]` or `npm run token -- captions <event>`: print a
 * scoped contribution token (contract/scoped-token.ts) signed with `INGEST_TOKEN_KEY` from the
 * environment, or the local-development key of .dev.vars. For a deployed Worker, mint tokens with
 * its operator API instead (`POST /api/events/{event}/tokens`), which holds the real key.
 */
import { readFileSync } from 'node:fs';
import { mintToken, TokenScope } from '../contract/scoped-token.ts';

const [scope, event, pipeline] = process.argv.slice(2);
const parsedScope = TokenScope.safeParse(scope);
if (!parsedScope.success || !event) {
  console.error('usage: npm run token -- ingest <event> [pipeline] | captions <event>');
  process.exit(2);
}
const devVars = readFileSync(new URL('../.dev.vars', import.meta.url), 'utf8');
const key = process.env.INGEST_TOKEN_KEY ?? /^INGEST_TOKEN_KEY=(.*)$/m.exec(devVars)?.[1];
if (!key) throw new Error('no INGEST_TOKEN_KEY in the environment or .dev.vars');
console.log(await mintToken(key, { scope: parsedScope.data, event, pipeline }));
