import { Hono } from 'hono';
import { CaptionsPost } from '../contract/captions.ts';
import { EventId } from '../contract/ids.ts';
import { requireBearer } from './bearer-auth.ts';
import type { Env } from './env.ts';
import { pathPart } from './ingest-path.ts';
import { readJson } from './json-body.ts';
import { applyEverywhere } from './every-region.ts';

/**
 * POST /api/events/{event}/captions (docs/captions.md): a live captioner's cues, in UTC, for
 * one declared language. It is contribution, like the bridge's PUTs, so it takes the ingest
 * token, not the operator's. The body is validated with zod and every cue is checked by the
 * origin before any is stored: a rejected request stores nothing. The cues go to every region.
 */
export const captionsRoutes = new Hono<{ Bindings: Env }>();

captionsRoutes.post('/events/:event/captions', async (c) => {
  await requireBearer(c.req.header('authorization'), c.env.INGEST_TOKEN, 'ingest');
  const event = pathPart(EventId, c.req.param('event'), 'event');
  const post = await readJson(c.req.raw, CaptionsPost);
  const cues = post.cues.map((cue) => ({ startMs: Date.parse(cue.start), endMs: Date.parse(cue.end), text: cue.text }));
  // Every region's origin gets the cues, as every region gets every segment (cross-publishing).
  const result = await applyEverywhere(c, event, (o) => o.putCues({ event, language: post.language, cues }));
  return c.json(
    { track: result.track, received: cues.length, added: result.added },
    result.status === 201 ? 201 : 200,
    { 'cache-control': 'no-store' },
  );
});
