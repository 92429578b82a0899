/**
 * `npm run token -- ingest <event> [pipeline]` or `npm run token -- captions <event>`: print a
 * scoped contribution token (contract/scoped-token.ts) signed with `INGEST_TOKEN_KEY` from the
 * environment, or the local-development key of .dev.vars.
 *
 * `npm run token -- player --event demo [--ttl 3600] [--acl /live/demo/*] [--acl …] [--ip 203.0.113.7]
 * [--id session-1] [--device tv-hevc] [--start <epoch seconds>]`: print a player token
 * (contract/player-token.ts, docs/player-tokens.md) signed with `PLAYER_TOKEN_KEY` the same way;
 * default ACL: the event's live paths and its license.
 *
 * For a deployed Worker, mint tokens with its operator API instead (`POST /api/events/{event}/tokens`,
 * `POST /api/events/{event}/player-tokens`), which holds the real keys.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EventId } from '../contract/ids.ts';
import { eventAcl, PlayerTokenRequest, playerKeyId, signPlayerToken } from '../contract/player-token.ts';
import { mintToken, TokenScope } from '../contract/scoped-token.ts';

const USAGE = `usage: npm run token -- ingest <event> [pipeline] | captions <event>
       npm run token -- player --event <event> [--ttl <seconds>] [--acl <path>]… [--ip <address>] [--id <session>] [--device <profile>] [--start <epoch seconds>]`;

/** A secret from the environment, else from .dev.vars (local development). */
function secret(name: string): string {
  const devVars = readFileSync(new URL('../.dev.vars', import.meta.url), 'utf8');
  const value = process.env[name] ?? new RegExp(`^${name}=(.*)$`, 'm').exec(devVars)?.[1];
  if (!value) throw new Error(`no ${name} in the environment or .dev.vars`);
  return value;
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

async function player(args: string[]): Promise<string> {
  const { values } = parseArgs({
    args,
    options: {
      event: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
      acl: { type: 'string', multiple: true },
      ip: { type: 'string' },
      id: { type: 'string' },
      device: { type: 'string' },
      start: { type: 'string' },
    },
  });
  const event = EventId.safeParse(values.event);
  if (!event.success) fail(`--event: ${values.event === undefined ? 'required' : event.error.issues[0].message}`);
  const req = PlayerTokenRequest.safeParse({
    ttlSeconds: Number(values.ttl),
    startsAt: values.start === undefined ? undefined : Number(values.start),
    acl: values.acl,
    ip: values.ip,
    sessionId: values.id,
    device: values.device,
  });
  if (!req.success) fail(req.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const key = secret('PLAYER_TOKEN_KEY');
  const { startsAt, ttlSeconds, acl, ip, sessionId, device } = req.data;
  return signPlayerToken(
    { id: await playerKeyId(key), secret: key },
    {
      startsAt,
      expiresAt: (startsAt ?? Math.floor(Date.now() / 1000)) + ttlSeconds,
      acl: acl ?? eventAcl(event.data),
      ip,
      sessionId,
      device,
    },
  );
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'player') console.log(await player(rest));
else {
  const scope = TokenScope.safeParse(command);
  const [event, pipeline] = rest;
  if (!scope.success || !event) fail('name a token kind and an event');
  console.log(await mintToken(secret('INGEST_TOKEN_KEY'), { scope: scope.data, event, pipeline }));
}
