import { EVENT_STATE_HEADER } from '../contract/event-state.ts';
import { candidateHeader } from '../origin/select-candidate.ts';
import { CMSD_STATIC, cmsdStatic, objectTypeOf } from './cmsd.ts';
import { refusedAnswer } from './edge-answer.ts';
import { originFor } from './origin-stub.ts';
import { chooseRegion, partHoldEndsAt } from './region-choice.ts';
import type { Ctx } from './route-handler.ts';

/**
 * `GET /live/{event}/{track}/{K}.m4s?latency=low` while K is being written (docs/latency.md,
 * "Chunked transfer"): the LL-DASH SegmentTemplate's URL, which only low-latency players use.
 * The home region's origin (the next region's when the home one fails or has not sent part 0 by the
 * end of its hold, edge/region-choice.ts) answers with a stream of K's parts as they land; the edge passes it
 * through as it comes (chunked transfer) and keeps nothing of it: the concatenated parts are not
 * the stored segment's bytes, and a stream that breaks must not be kept as a short segment.
 *
 * Not coalesced: workerd binds a stream to the request that opened it, so one origin stream
 * cannot feed another player's response; each player's request for an in-progress segment is one
 * origin stream (its parts come from the object's memory). Refusals (404 before the segment is
 * being written) are not kept either.
 *
 * Undefined when the origin says the standard answer applies (K stored or due, or its parts never
 * came): the caller serves the segment as for any player, through the edge cache. The caller does
 * not ask at all once it knows K is due (contract/low-latency.ts streamsParts).
 */
export async function chunkedSegment(c: Ctx, event: string, track: string, k: number): Promise<Response | undefined> {
  // Part 0 opens the stream: a region that has not sent it by the end of its hold is passed over.
  const chosen = await chooseRegion(c, {
    dueAtMs: partHoldEndsAt(event, k, 0),
    ask: (r) => originFor(c.env, event, r).getSegmentChunked(track, k),
    // A home region that answered after the next one: its stream is cancelled, not left open.
    discard: (value) => {
      if ('stream' in value) value.stream.cancel().catch(() => {});
    },
  });
  const { region, result } = chosen;
  if (!result.ok) {
    const subject = { event, track, path: new URL(c.req.url).pathname };
    const answer = await refusedAnswer(c.env, 'segment', subject, result);
    return new Response(answer.body as Uint8Array<ArrayBuffer> | null, {
      status: answer.status,
      headers: answer.headers,
    });
  }
  const value = result.value;
  if ('whole' in value) return undefined;
  return new Response(value.stream, {
    headers: {
      'content-type': value.kind === 'audio' ? 'audio/mp4' : 'video/mp4',
      // Neither this edge nor any cache after it keeps the stream as the segment.
      'cache-control': 'no-store',
      'x-cache': 'stream',
      'x-candidate': candidateHeader({ pipeline: value.pipeline, region, defects: [] }),
      'x-candidate-reason': chosen.reason,
      [CMSD_STATIC]: cmsdStatic({ ot: objectTypeOf(value.kind), at: value.receivedAt }),
      [EVENT_STATE_HEADER]: value.eventState,
    },
  });
}
