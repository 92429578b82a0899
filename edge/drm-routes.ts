import type { MiddlewareHandler } from 'hono';
import { ClearKeyRequest, DrmConfigRequest, type DrmConfig } from '../contract/drm-config.ts';
import { segmentNumberAt } from '../contract/epoch.ts';
import { AppError } from '../contract/errors.ts';
import { EventId } from '../contract/ids.ts';
import type { ManifestInput } from '../contract/track.ts';
import { fromBase64Url, keyPeriod, toBase64Url, toHex, type ContentKey } from '../packager/drm/keys.ts';
import { unwrap } from '../origin/result.ts';
import { corsHeaders } from './cors.ts';
import { keyProviderFor, requireAllowedKeySource } from './drm-packaging.ts';
import { applyEverywhere } from './every-region.ts';
import type { Ctx, RouteHandler } from './route-handler.ts';
import { pathPart } from './ingest-path.ts';
import { readJson } from './json-body.ts';
import { originFor } from './origin-stub.ts';
import { readBodyLimited } from './read-body.ts';

const NO_STORE = { 'cache-control': 'no-store' };

/**
 * PUT /api/events/{event}/drm (operator token): the event's DRM, set before its first init
 * (docs/api.md). `{"drm": {"scheme": "cenc"}}`, or `{"drm": null}` for clear.
 */
export const putDrm: RouteHandler = async (c) => {
  const event = pathPart(EventId, c.req.param('event'), 'event');
  const { drm } = await readJson(c.req.raw, DrmConfigRequest);
  // Before anything is stored: published development keys only where the deployment allows them.
  if (drm) requireAllowedKeySource(drm, c.env);
  return c.json(await applyEverywhere(c, event, (o) => o.setDrm(drm), { all: true }), 200, NO_STORE);
};

/**
 * POST /drm/clearkey/{event}: a W3C ClearKey license server. Only for a valid player token whose
 * ACL covers this path (edge/routes.ts `player:required`, docs/player-tokens.md), whatever the
 * event's `playerTokens` switch: a key is never public. In production licenses for real DRM
 * systems come from the DRM vendor's server.
 */
const LICENSE_CORS = {
  ...corsHeaders,
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers': '*, authorization',
  'access-control-max-age': '86400',
};

/** CORS for license requests from players on any origin (preflights included). */
export const licenseCors: MiddlewareHandler = async (c, next) => {
  if (c.req.method === 'OPTIONS') return new Response(null, { status: 204, headers: LICENSE_CORS });
  await next();
  for (const [name, value] of Object.entries(corsHeaders)) c.res.headers.set(name, value);
};

export const postClearKeyLicense: RouteHandler = async (c) => {
  const event = pathPart(EventId, c.req.param('event'), 'event');
  // EME sends the license request as-is; players differ in the Content-Type they give it.
  const req = await parseLicenseRequest(c);
  const { drm } = await originFor(c.env, event).ingestDrm('', '');
  if (!drm) throw new AppError('KEY_NOT_FOUND', `event ${event} is not protected (no DRM set)`);
  const keys = await candidateKeys(c, event, drm);
  const answer = req.kids.map((kid) => {
    const key = keys.get(toHex(fromBase64Url(kid)));
    if (!key)
      throw new AppError(
        'KEY_NOT_FOUND',
        `KID ${kid} (hex ${toHex(fromBase64Url(kid))}) is not a current key of event ${event}`,
      );
    return { kty: 'oct', kid, k: toBase64Url(key.key) };
  });
  // The event's other current keys come along (after the ones asked for): a player that opens one
  // session for the whole presentation (hls.js does) then has the audio key with the video one.
  const asked = new Set(req.kids.map((kid) => toHex(fromBase64Url(kid))));
  const others = [...keys]
    .filter(([hex]) => !asked.has(hex))
    .map(([, key]) => ({ kty: 'oct', kid: toBase64Url(key.kid), k: toBase64Url(key.key) }));
  return c.json({ keys: [...answer, ...others], type: req.type }, 200, NO_STORE);
};

async function parseLicenseRequest(c: Ctx): Promise<ClearKeyRequest> {
  const bytes = await readBodyLimited(c.req.raw, 16 * 1024, 'license request');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new AppError(
      'BAD_BODY',
      'a ClearKey license request is JSON: {"kids": ["<base64url KID>"], "type": "temporary"}',
    );
  }
  const parsed = ClearKeyRequest.safeParse(json);
  if (!parsed.success)
    throw new AppError(
      'BAD_BODY',
      parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '),
    );
  return parsed.data;
}

/** The event's keys a player may ask for now: period 0 (the init's default KID), and the current key period and its neighbours. */
async function candidateKeys(c: Ctx, event: string, drm: DrmConfig): Promise<Map<string, ContentKey>> {
  const periods = new Set([0]);
  if (drm.rotateEverySegments) {
    const state = unwrap(await originFor(c.env, event).eventState());
    const current = keyPeriod(segmentNumberAt(Date.now(), state.config.segmentDurationMs), drm);
    for (const p of [current - 1, current, current + 1]) if (p >= 0) periods.add(p);
  }
  const out = new Map<string, ContentKey>();
  const keyProvider = keyProviderFor(drm, c.env);
  for (const period of periods) {
    for (const kind of ['video', 'audio'] as const) {
      const key = await keyProvider.getKey(event, kind, period);
      out.set(toHex(key.kid), key);
    }
  }
  return out;
}

/** The ClearKey license URL of the event on this host, filled into every protected track's descriptor for the MPD. */
export function withLicenseUrl(input: ManifestInput, requestUrl: string): ManifestInput {
  if (!input.tracks.some((t) => t.drm)) return input;
  const laUrl = new URL(`/drm/clearkey/${input.eventId}`, requestUrl).href;
  return { ...input, tracks: input.tracks.map((t) => (t.drm ? { ...t, drm: { ...t.drm, laUrl } } : t)) };
}
