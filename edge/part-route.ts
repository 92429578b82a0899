import { EVENT_STATE_HEADER } from '../contract/event-state.ts';
import { EventId, SegmentNumber, TrackId } from '../contract/ids.ts';
import { candidateHeader } from '../origin/select-candidate.ts';
import { CMSD_STATIC, cmsdStatic, objectTypeOf } from './cmsd.ts';
import { refusedAnswer, servedAnswer, serveCached } from './edge-answer.ts';
import { etagFor } from './etag.ts';
import { MAX_PART_INDEX, pathPart } from './ingest-path.ts';
import { originFor } from './origin-stub.ts';
import { chooseRegion, partHoldEndsAt } from './region-choice.ts';
import { refuseManifestFilter } from './personalisation.ts';
import type { RouteHandler } from './route-handler.ts';

/**
 * GET /live/{event}/{track}/{K}.{n}.m4s: part n of segment K (chunked CMAF, docs/latency.md),
 * through the edge cache like a segment: one origin call per part per isolate, every player
 * asking meanwhile (the LL-HLS preload hint makes them ask before it exists) awaits the same
 * answer, which the origin holds until the part is stored. Parts live in each region's memory:
 * the home region's object answers, the next region's when the home one fails or has not
 * answered by the end of the part's hold (edge/region-choice.ts).
 */
export const getPart: RouteHandler = async (c) => {
  refuseManifestFilter(new URL(c.req.url).searchParams);
  const event = pathPart(EventId, c.req.param('event'), 'event');
  const track = pathPart(TrackId, c.req.param('track'), 'track');
  const [rawK, rawN] = (c.req.param('file') ?? '').replace(/\.m4s$/, '').split('.');
  const k = pathPart(SegmentNumber, rawK, 'segment number');
  const n = pathPart(SegmentNumber.max(MAX_PART_INDEX), rawN, 'part number');
  const subject = { type: 'segment', event, track, path: new URL(c.req.url).pathname } as const;
  return serveCached(c, {
    event,
    subject,
    key: `${track}/${k}.${n}.m4s`,
    fill: async () => {
      const chosen = await chooseRegion(c, {
        dueAtMs: partHoldEndsAt(event, k, n),
        ask: (r) => originFor(c.env, event, r).getPart(track, k, n),
      });
      if (!chosen.result.ok) return refusedAnswer(c.env, 'segment', subject, chosen.result);
      const part = chosen.result.value;
      return servedAnswer(c.env, subject, { state: 'stored' }, part.bytes, {
        'content-type': part.kind === 'audio' ? 'audio/mp4' : 'video/mp4',
        etag: etagFor(part.version, part.sha256),
        'x-candidate': candidateHeader({ pipeline: part.pipeline, region: chosen.region, defects: [] }),
        'x-candidate-reason': chosen.reason,
        [CMSD_STATIC]: cmsdStatic({ ot: objectTypeOf(part.kind), at: part.receivedAt }),
        [EVENT_STATE_HEADER]: part.eventState,
      });
    },
  });
};
