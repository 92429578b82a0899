import type { MiddlewareHandler } from 'hono';
import { TOKEN_PREFIX } from '../contract/scoped-token.ts';
import { bearerToken, check } from '../edge/credentials.ts';
import type { AppEnv } from '../edge/route-handler.ts';

/**
 * POST /api/events/{event}/splices takes two credentials: the operator's (read-write token or a
 * write session of the Control Room) and the event's ingest token, with which the bridge posts
 * the splices it reads from the contribution feed. A scoped token (`cs1.…`) is checked as an
 * ingest token, anything else as the operator's; the handler then holds an ingest token to its
 * own event (requireTokenFor). A captions token is refused: captioners place cues, not breaks.
 */
export const operatorOrIngest: MiddlewareHandler<AppEnv> = async (c, next) => {
  const bearer = bearerToken(c.req.header('authorization'));
  await check(c, bearer?.startsWith(`${TOKEN_PREFIX}.`) ? 'ingest' : 'operator:write');
  await next();
};
