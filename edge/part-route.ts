import { EVENT_STATE_HEADER } from '../contract/event-state.ts';
import { EventId, SegmentNumber, TrackId } from '../contract/ids.ts';
import { candidateHeader } from '../origin/select-candidate.ts';
import { CMSD_STATIC, cmsdStatic, objectTypeOf } from './cmsd.ts';
import { refusedAnswer, servedAnswer, serveCached } from './edge-answer.ts';
import { etagFor } from './etag.ts';
import { MAX_PART_INDEX, pathPart } from './ingest-path.ts';
import { originFor, regionOf } from './origin-stub.ts';
import { refuseManifestFilter } from './personalisation.ts';
import type { RouteHandler } from './route-handler.ts';

/**
 * GET /live/{event}/{track}/{K}.{n}.m4s: part n of segment K (chunked CMAF, docs/latency.md),
 * through the edge cache like a segment: one origin call per part per isolate, every player
 * asking meanwhile (the LL-HLS preload hint makes them ask before it exists) awaits the same
 * answer, which the origin holds until the part is stored. Parts live in each region's memory,
 * so the home region's object answers.
 */
export const getPart: RouteHandler = async (c) => {
  refuseManifestFilter(new URL(c.req.url).searchParams);
  const event = pathPart(EventId, c.req.param('event'), 'event');
  const track = pathPart(TrackId, c.req.param('track'), 'track');
  const [rawK, rawN] = (c.req.param('file') ?? '').replace(/\.m4s$/, '').split('.');
  const k = pathPart(SegmentNumber, rawK, 'segment number');
  const n = pathPart(SegmentNumber.max(MAX_PART_INDEX), rawN, 'part number');
  const subject = { type: 'segment', event, track, path: new URL(c.req.url).pathname } as const;
  const region = regionOf(c.env);
  return serveCached(c, {
    event,
    subject,
    key: `${track}/${k}.${n}.m4s`,
    fill: async () => {
      const result = await originFor(c.env, event, region).getPart(track, k, n);
      if (!result.ok) return refusedAnswer(c.env, 'segment', subject, result);
      const part = result.value;
      return servedAnswer(c.env, subject, { state: 'stored' }, part.bytes, {
        'content-type': part.kind === 'audio' ? 'audio/mp4' : 'video/mp4',
        etag: etagFor(part.version, part.sha256),
        'x-candidate': candidateHeader({ pipeline: part.pipeline, region, defects: [] }),
        [CMSD_STATIC]: cmsdStatic({ ot: objectTypeOf(part.kind), at: part.receivedAt }),
        [EVENT_STATE_HEADER]: part.eventState,
      });
    },
  });
};
