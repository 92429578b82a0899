import type { RouteHandler } from './route-handler.ts';

/** DASH UTCTiming (urn:mpeg:dash:utc:http-iso:2014) and hls.js clock sync: never cached. */
export const getTime: RouteHandler = (c) => c.text(new Date().toISOString(), 200, { 'cache-control': 'no-store' });
