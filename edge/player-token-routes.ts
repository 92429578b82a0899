import { AppError } from '../contract/errors.ts';
import { EventId } from '../contract/ids.ts';
import { eventAcl, PlayerTokenRequest, signPlayerToken } from '../contract/player-token.ts';
import { pathPart } from './ingest-path.ts';
import { readJson } from './json-body.ts';
import { playerKeys } from './player-auth.ts';
import type { RouteHandler } from './route-handler.ts';

/** An ACL entry of the event's own paths: its live paths (`/live/{event}/…`) or its license. */
const withinEvent = (entry: string, event: string) =>
  entry.startsWith(`/live/${event}/`) || entry === `/drm/clearkey/${event}`;

/**
 * POST /api/events/{event}/player-tokens (operator:write): a player token for this event, signed
 * with the current key (`PLAYER_TOKEN_KEY`). What a viewer-facing backend calls once it decided a
 * viewer is entitled; stateless (docs/player-tokens.md): nothing is stored, and rotating the key
 * revokes every token once the previous key is retired.
 */
export const postPlayerToken: RouteHandler = async (c) => {
  const event = pathPart(EventId, c.req.param('event'), 'event');
  const req = await readJson(c.req.raw, PlayerTokenRequest);
  const acl = req.acl ?? eventAcl(event);
  const outside = acl.filter((entry) => !withinEvent(entry, event));
  if (outside.length > 0)
    throw new AppError(
      'BAD_BODY',
      `acl: ${outside.join(', ')} is outside event ${event} (its entries start with /live/${event}/ or are /drm/clearkey/${event})`,
    );
  const [key] = await playerKeys(c.env);
  if (!key) throw new AppError('INTERNAL', 'PLAYER_TOKEN_KEY is not set: no player token can be signed');
  const expiresAt = (req.startsAt ?? Math.floor(Date.now() / 1000)) + req.ttlSeconds;
  const token = await signPlayerToken(key, {
    startsAt: req.startsAt,
    expiresAt,
    acl,
    ip: req.ip,
    sessionId: req.sessionId,
    device: req.device,
  });
  return c.json(
    {
      token,
      event,
      kid: key.id,
      acl,
      startsAt: req.startsAt === undefined ? null : new Date(req.startsAt * 1000).toISOString(),
      expiresAt: new Date(expiresAt * 1000).toISOString(),
      // What a player appends to the manifest URL (the token needs no escaping in a query).
      query: `token=${token}`,
    },
    201,
    { 'cache-control': 'no-store' },
  );
};
