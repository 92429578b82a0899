import { CaptionsPost } from '../contract/captions.ts';
import { EventId } from '../contract/ids.ts';
import { requireTokenFor } from './credentials.ts';
import { requireCreatedEvent } from './event-gate.ts';
import type { RouteHandler } from './route-handler.ts';
import { pathPart } from './ingest-path.ts';
import { readJson } from './json-body.ts';
import { applyEverywhere } from './every-region.ts';

/**
 * POST /api/events/{event}/captions (docs/captions.md): a live captioner's cues, in UTC, for
 * one declared language. It takes a `captions` token scoped to the event (edge/routes.ts), never
 * the operator's, and cannot publish media. The body is validated with zod and every cue is checked by the
 * origin before any is stored: a rejected request stores nothing. The cues go to every region.
 */
export const postCaptions: RouteHandler = async (c) => {
  const event = pathPart(EventId, c.req.param('event'), 'event');
  requireTokenFor(c, event);
  await requireCreatedEvent(c.env, event);
  const post = await readJson(c.req.raw, CaptionsPost);
  const cues = post.cues.map((cue) => ({ startMs: Date.parse(cue.start), endMs: Date.parse(cue.end), text: cue.text }));
  // Every region's origin gets the cues, as every region gets every segment (cross-publishing).
  const result = await applyEverywhere(c, event, (o) => o.putCues({ event, language: post.language, cues }));
  return c.json(
    { track: result.track, received: cues.length, added: result.added },
    result.status === 201 ? 201 : 200,
    { 'cache-control': 'no-store' },
  );
};
