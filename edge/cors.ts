import type { MiddlewareHandler } from 'hono';

/**
 * Players on any origin fetch manifests and segments, and dash.js/hls.js read x-candidate to
 * conceal defects, so every public response carries these.
 */
export const corsHeaders: Record<string, string> = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers':
    'x-candidate, x-event-state, x-received-at, etag, date, content-length, retry-after, cmsd-static, cmsd-dynamic',
};

const preflightHeaders: Record<string, string> = {
  ...corsHeaders,
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  // The `*` wildcard never covers Authorization (Fetch spec), which operator candidate fetches send.
  'access-control-allow-headers': '*, authorization',
  'access-control-max-age': '86400',
};

/** Answers OPTIONS preflights and adds CORS headers to every other response. */
export const cors: MiddlewareHandler = async (c, next) => {
  if (c.req.method === 'OPTIONS') return new Response(null, { status: 204, headers: preflightHeaders });
  await next();
  for (const [name, value] of Object.entries(corsHeaders)) c.res.headers.set(name, value);
};
