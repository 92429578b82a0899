/** A tiny client for the ingest and live routes, shared by route, pipeline and browser tests. */
import { EventId, PipelineId } from '../contract/ids.ts';
import type { TrackMeta } from '../contract/ingest.ts';
import { eventAcl, type PlayerClaims, playerKeyId, signPlayerToken } from '../contract/player-token.ts';
import { mintToken, type TokenScope } from '../contract/scoped-token.ts';

/** The local-development secrets of .dev.vars. */
export const DEV_INGEST_TOKEN_KEY = 'dev-ingest-token-key';
export const DEV_OPERATOR_TOKEN = 'dev-operator-token';
export const DEV_OPERATOR_READ_TOKEN = 'dev-operator-read-token';
export const DEV_PLAYER_TOKEN_KEY = 'dev-player-token-key';
export const DEV_PLAYER_TOKEN_KEY_PREVIOUS = 'dev-player-token-key-previous';

/**
 * A player token for `event` signed with the development key (what `npm run token -- player`
 * prints): its live paths and license for an hour, unless `claims` say otherwise.
 */
export async function devPlayerToken(
  event: string,
  claims: Partial<Omit<PlayerClaims, 'kid'>> = {},
  secret = DEV_PLAYER_TOKEN_KEY,
): Promise<string> {
  return signPlayerToken(
    { id: await playerKeyId(secret), secret },
    { expiresAt: Math.floor(Date.now() / 1000) + 3600, acl: eventAcl(event), ...claims },
  );
}

/** A scoped contribution token signed with the development key (what `npm run token` prints). */
export function devToken(scope: TokenScope, event: string, pipeline?: string): Promise<string> {
  return mintToken(DEV_INGEST_TOKEN_KEY, { scope, event, pipeline });
}

/**
 * The development ingest token for `path` (`{event}/{pipeline}/…`): scoped to its event and
 * pipeline. For a path whose event or pipeline is malformed (tests of 400 answers), a token of
 * another event, so the Worker gets as far as parsing the path.
 */
export function ingestTokenFor(path: string): Promise<string> {
  const [event, pipeline] = path.split('?')[0].split('/');
  const validEvent = EventId.safeParse(event).success ? event : 'not-this-event';
  return devToken('ingest', validEvent, PipelineId.safeParse(pipeline).success ? pipeline : undefined);
}

export interface PutOptions {
  token?: string | null;
  contentType?: string | null;
  meta?: TrackMeta | string | null;
  defects?: string;
  headers?: Record<string, string>;
  /** false: do not create the event first (tests of ingest for an event that was never created). */
  create?: boolean;
}

/**
 * A JSON request to `baseUrl + path` with the operator token (another with `token`, none with
 * null); a string body is sent as it is (malformed-JSON tests).
 */
export function operatorCall(
  baseUrl: string,
  path: string,
  init: { method?: string; body?: unknown; token?: string | null } = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (init.token !== null) headers.authorization = `Bearer ${init.token ?? DEV_OPERATOR_TOKEN}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${baseUrl}${path}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  });
}

const created = new Set<string>();

/**
 * Create `event` through the control plane (POST /api/events) unless this process already did:
 * ingest and players only reach events the hub created. An existing event (409) is fine.
 */
export async function ensureEvent(
  baseUrl: string,
  event: string,
  definition: Record<string, unknown> = {},
): Promise<void> {
  const key = `${baseUrl}|${event}`;
  if (created.has(key) || !EventId.safeParse(event).success) return;
  const res = await fetch(`${baseUrl}/api/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: event, ...definition }),
  });
  if (res.status !== 201 && res.status !== 409)
    throw new Error(`creating event ${event}: ${res.status} ${await res.text()}`);
  created.add(key);
}

/**
 * PUT one init (`file` = 'init.mp4') or segment (`${K}.m4s`) to the ingest route, creating the
 * path's event first (ensureEvent) unless `o.create` is false.
 */
export async function ingestPut(
  baseUrl: string,
  path: string,
  body: Uint8Array,
  o: PutOptions = {},
): Promise<Response> {
  if (o.create !== false) await ensureEvent(baseUrl, path.split('/')[0]);
  const headers = new Headers(o.headers);
  const token = o.token === undefined ? await ingestTokenFor(path) : o.token;
  if (token !== null) headers.set('authorization', `Bearer ${token}`);
  const contentType = o.contentType === undefined ? 'video/mp4' : o.contentType;
  if (contentType !== null) headers.set('content-type', contentType);
  const meta =
    o.meta === undefined && path.split('?')[0].endsWith('init.mp4') ? { bandwidth: 400_000, frameRate: '30' } : o.meta;
  if (meta) headers.set('x-track-meta', typeof meta === 'string' ? meta : JSON.stringify(meta));
  if (o.defects !== undefined) headers.set('x-segment-defects', o.defects);
  // Fixture bytes always sit on plain ArrayBuffers; the DOM typing just cannot know it.
  return fetch(`${baseUrl}/ingest/${path}`, { method: 'PUT', headers, body: body as Uint8Array<ArrayBuffer> });
}

export async function getBytes(url: string, init?: RequestInit): Promise<{ res: Response; bytes: Uint8Array }> {
  const res = await fetch(url, init);
  return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
}

export function randomEventId(prefix = 't'): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 12)}`;
}
