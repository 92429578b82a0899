/**
 * `PUT /contribution/{event}/{pipeline}` (edge/contribution-route.ts) in the local Worker, which has
 * no ENCODER_BRIDGE binding: the credential is checked first (an ingest token of the event and
 * pipeline, or the operator token), then the answer says the route needs Cloudflare Containers.
 * The forwarding itself runs only where containers do (docs/containers.md).
 */
import { describe, expect, inject, it } from 'vitest';
import { DEV_OPERATOR_READ_TOKEN, DEV_OPERATOR_TOKEN, devToken } from '../test/ingest-client.ts';

const url = inject('workerUrl');
const put = (path: string, token?: string) =>
  fetch(`${url}${path}`, {
    method: 'PUT',
    headers: { 'content-type': 'video/mp2t', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: new Uint8Array(188),
  });
const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

describe('PUT /contribution/{event}/{pipeline}', () => {
  it('needs a credential: an ingest token of that event and pipeline, or the operator token', async () => {
    const none = await put('/contribution/show/A');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('ingest');
    expect(await code(await put('/contribution/show/A', 'nonsense'))).toBe('FORBIDDEN');
    expect(await code(await put('/contribution/show/A', DEV_OPERATOR_READ_TOKEN))).toBe('FORBIDDEN');
    expect(await code(await put('/contribution/show/A', await devToken('ingest', 'other', 'A')))).toBe('FORBIDDEN');
    expect(await code(await put('/contribution/show/A', await devToken('ingest', 'show', 'B')))).toBe('FORBIDDEN');
    expect(await code(await put('/contribution/show/A', await devToken('captions', 'show')))).toBe('FORBIDDEN');
  });

  it('validates the path', async () => {
    expect(await code(await put('/contribution/Show!/A', DEV_OPERATOR_TOKEN))).toBe('BAD_PATH');
    expect(await code(await put('/contribution/show/a', DEV_OPERATOR_TOKEN))).toBe('BAD_PATH');
  });

  it('says it needs Cloudflare Containers where there are none', async () => {
    for (const token of [DEV_OPERATOR_TOKEN, await devToken('ingest', 'show', 'A'), await devToken('ingest', 'show')]) {
      const res = await put('/contribution/show/A', token);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain('Containers');
    }
  });
});
