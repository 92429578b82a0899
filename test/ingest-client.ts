/** A tiny client for the ingest and live routes, shared by route, pipeline and browser tests. */
import type { TrackMeta } from '../contract/ingest.ts';

export const DEV_INGEST_TOKEN = 'dev-ingest-token';
export const DEV_OPERATOR_TOKEN = 'dev-operator-token';

export interface PutOptions {
  token?: string | null;
  contentType?: string | null;
  meta?: TrackMeta | string | null;
  defects?: string;
  headers?: Record<string, string>;
}

/** PUT one init (`file` = 'init.mp4') or segment (`${K}.m4s`) to the ingest route. */
export async function ingestPut(
  baseUrl: string,
  path: string,
  body: Uint8Array,
  o: PutOptions = {},
): Promise<Response> {
  const headers = new Headers(o.headers);
  const token = o.token === undefined ? DEV_INGEST_TOKEN : o.token;
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
