import { postCaptions } from './captions-routes.ts';
import { countCmcd } from './cmcd-reports.ts';
import { countEdge } from './edge-reports.ts';
import { cors } from './cors.ts';
import type { Credential } from './credentials.ts';
import { deleteDevice, getDevice, getDevices, putDevice } from './device-routes.ts';
import { licenseCors, postClearKeyLicense, putDrm } from './drm-routes.ts';
import { faultInjectionGate, putFault } from './fault-routes.ts';
import { ingestMethodNotAllowed, putIngest } from './ingest-route.ts';
import { getPart } from './part-route.ts';
import { postPlayerToken } from './player-token-routes.ts';
import {
  getInit,
  getMediaPlaylist,
  getMpd,
  getMultivariantPlaylist,
  getSegment,
  getTextSegment,
  rememberLiveEventState,
} from './live-routes.ts';
import {
  deleteMask,
  deleteNext,
  getState,
  getStorage,
  patchConfig,
  postEnd,
  postMask,
  postToken,
  postVersion,
  putNext,
} from './operator-routes.ts';
import type { RouteHandler } from './route-handler.ts';
import { getTime } from './time-route.ts';
import { deleteTtlRule, getTtlExplain, getTtlRules, putTtlRuleSet } from './ttl-routes.ts';

export type Method = 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE' | 'ALL';

export interface Route {
  method: Method;
  /** hono path pattern. */
  path: string;
  /** What the caller must present (edge/credentials.ts); checked before the handler runs. */
  credential: Credential;
  handler: RouteHandler;
  /**
   * An operator:write route of an event that changes nothing players see (minting a token): the
   * edge keeps what it cached for the event (every other control makes this isolate forget it).
   */
  keepsCache?: true;
}

/**
 * Every route of the Worker and the credential it needs: the one table (docs/api.md). Each entry
 * carries its own check, so what a route requires never depends on the order routes are added
 * (a test walks this table and proves every non-public route refuses a request without it).
 * `/` and `/vendor/*` never reach the Worker: they are static assets (wrangler.toml [assets]).
 */
export const routes: Route[] = [
  // Contribution: the encoder bridge (scoped ingest token) and live captioners (scoped captions token).
  { method: 'PUT', path: '/ingest/*', credential: 'ingest', handler: putIngest },
  { method: 'ALL', path: '/ingest/*', credential: 'public', handler: ingestMethodNotAllowed },
  { method: 'POST', path: '/api/events/:event/captions', credential: 'captions', handler: postCaptions },

  // Players: a player token when the event requires one (`player`), always for keys
  // (`player:required`; docs/player-tokens.md). A `?pipeline=`/`?region=` candidate fetch on a
  // segment or init path is an operator view and checks operator:read inside the handler
  // (live-routes.ts operatorPick).
  { method: 'GET', path: '/live/:event/index.mpd', credential: 'player', handler: getMpd },
  { method: 'GET', path: '/live/:event/index.m3u8', credential: 'player', handler: getMultivariantPlaylist },
  { method: 'GET', path: '/live/:event/:track/index.m3u8', credential: 'player', handler: getMediaPlaylist },
  { method: 'GET', path: '/live/:event/:track/init.mp4', credential: 'player', handler: getInit },
  { method: 'GET', path: '/live/:event/:track/:file{[0-9]+\\.vtt}', credential: 'player', handler: getTextSegment },
  { method: 'GET', path: '/live/:event/:track/:file{[0-9]+\\.m4s}', credential: 'player', handler: getSegment },
  { method: 'GET', path: '/live/:event/:track/:file{[0-9]+\\.[0-9]+\\.m4s}', credential: 'player', handler: getPart },
  { method: 'POST', path: '/drm/clearkey/:event', credential: 'player:required', handler: postClearKeyLicense },
  { method: 'GET', path: '/time', credential: 'public', handler: getTime },

  // Operators: views take the read-only or the read-write token, controls only the read-write one.
  { method: 'GET', path: '/api/events/:event/storage', credential: 'operator:read', handler: getStorage },
  { method: 'GET', path: '/api/events/:event/state', credential: 'operator:read', handler: getState },
  { method: 'PATCH', path: '/api/events/:event/config', credential: 'operator:write', handler: patchConfig },
  { method: 'POST', path: '/api/events/:event/masks', credential: 'operator:write', handler: postMask },
  { method: 'DELETE', path: '/api/events/:event/masks/:id', credential: 'operator:write', handler: deleteMask },
  { method: 'POST', path: '/api/events/:event/version', credential: 'operator:write', handler: postVersion },
  { method: 'POST', path: '/api/events/:event/end', credential: 'operator:write', handler: postEnd },
  { method: 'PUT', path: '/api/events/:event/next', credential: 'operator:write', handler: putNext },
  { method: 'DELETE', path: '/api/events/:event/next', credential: 'operator:write', handler: deleteNext },
  { method: 'PUT', path: '/api/events/:event/drm', credential: 'operator:write', handler: putDrm },
  {
    method: 'POST',
    path: '/api/events/:event/tokens',
    credential: 'operator:write',
    handler: postToken,
    keepsCache: true,
  },
  {
    method: 'POST',
    path: '/api/events/:event/player-tokens',
    credential: 'operator:write',
    handler: postPlayerToken,
    keepsCache: true,
  },
  // Local development only (ALLOW_FAULT_INJECTION): make one region's origin fail player requests.
  { method: 'PUT', path: '/api/events/:event/fault', credential: 'operator:write', handler: putFault },
  { method: 'GET', path: '/api/ttl/rules', credential: 'operator:read', handler: getTtlRules },
  { method: 'PUT', path: '/api/ttl/rules', credential: 'operator:write', handler: putTtlRuleSet },
  { method: 'DELETE', path: '/api/ttl/rules/:id', credential: 'operator:write', handler: deleteTtlRule },
  { method: 'GET', path: '/api/ttl/explain', credential: 'operator:read', handler: getTtlExplain },
  // Device profiles for personalised manifests (docs/manifests.md).
  { method: 'GET', path: '/api/devices', credential: 'operator:read', handler: getDevices },
  { method: 'GET', path: '/api/devices/:name', credential: 'operator:read', handler: getDevice },
  { method: 'PUT', path: '/api/devices/:name', credential: 'operator:write', handler: putDevice },
  { method: 'DELETE', path: '/api/devices/:name', credential: 'operator:write', handler: deleteDevice },
];

/** Middleware that is not about credentials, by path prefix (CORS, remembering event state). */
export const middleware = [
  { path: '/live/*', handler: cors },
  { path: '/live/*', handler: rememberLiveEventState },
  // Players' CMCD, counted per event and reported to its origin every few seconds (docs/cmcd.md).
  { path: '/live/*', handler: countCmcd },
  // Requests, cache hits, 4xx/5xx and sheds per event, reported to the hub (docs/control-plane.md).
  { path: '/live/*', handler: countEdge },
  { path: '/drm/*', handler: licenseCors },
  { path: '/time', handler: cors },
  // Not a route at all unless ALLOW_FAULT_INJECTION is "true": 404 before any credential check.
  { path: '/api/events/:event/fault', handler: faultInjectionGate },
];
