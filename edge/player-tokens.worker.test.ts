/**
 * Player tokens on the real Worker in workerd (docs/player-tokens.md): an event with
 * `playerTokens: required` refuses manifests and segments without a valid token (403 and a
 * reason), serves them with a query token and with the cookie its manifest sets; a query token
 * comes back in the manifest's URLs while the cached manifest holds none; the license endpoint
 * wants a token whatever the switch; the development key store only where ALLOW_DEV_KEYS is set.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultEventConfig } from '../contract/event-config.ts';
import { EVENT_STATE_HEADER, parseEventState } from '../contract/event-state.ts';
import { LocalKeyStore, toBase64Url } from '../packager/drm/keys.ts';
import {
  DEV_OPERATOR_TOKEN,
  DEV_PLAYER_TOKEN_KEY_PREVIOUS,
  devPlayerToken,
  ingestPut,
  randomEventId,
} from '../test/ingest-client.ts';
import { liveK, loadMedia, type Media, segmentFor } from '../test/media.ts';
import { REMEMBERED_STATE_TRUST_MS } from './player-auth.ts';
import worker from './worker.ts';

const url = inject('workerUrl');
const { segmentDurationMs: D } = defaultEventConfig;
const operator = { authorization: `Bearer ${DEV_OPERATOR_TOKEN}`, 'content-type': 'application/json' };
let video: Media;

beforeAll(async () => {
  video = await loadMedia({ kind: 'video' });
});

type ErrorBody = { error: { code: string; id: number; reason?: string; message: string } };

async function refusedWith(res: Response, reason: string): Promise<void> {
  expect(res.status).toBe(403);
  const body = (await res.json()) as ErrorBody;
  expect(body.error.reason).toBe(reason);
  expect(body.error.code).toMatch(/^PLAYER_TOKEN_/);
}

const setConfig = (event: string, patch: unknown) =>
  fetch(`${url}/api/events/${event}/config`, { method: 'PATCH', headers: operator, body: JSON.stringify(patch) });

/** An event with one video track and segment K published. */
async function publishedEvent(prefix: string): Promise<{ event: string; k: number }> {
  const event = randomEventId(prefix);
  const k = liveK(D) - 2;
  expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init)).status).toBe(201);
  expect((await ingestPut(url, `${event}/A/v1/${k}.m4s`, segmentFor(video, k, D))).status).toBe(201);
  return { event, k };
}

describe('an event with playerTokens: required', () => {
  let event: string;
  let k: number;
  beforeAll(async () => {
    ({ event, k } = await publishedEvent('tok'));
    // Seen open first: this isolate remembers a state without tok, as an isolate that served the
    // event before the switch would.
    expect((await fetch(`${url}/live/${event}/index.mpd`)).status).toBe(200);
    expect((await setConfig(event, { playerTokens: 'required' })).status).toBe(200);
  });

  it('refuses a manifest and a segment without a token: 403, reason missing, no token in any answer', async () => {
    // The remembered state still says open: the answer's own state (tok=?1) refuses it.
    await refusedWith(await fetch(`${url}/live/${event}/index.mpd`), 'missing');
    // Now remembered as protected: refused before the edge looks anything up.
    await refusedWith(await fetch(`${url}/live/${event}/v1/${k}.m4s`), 'missing');
    await refusedWith(await fetch(`${url}/live/${event}/v1/index.m3u8`), 'missing');
    await refusedWith(await fetch(`${url}/live/${event}/v1/init.mp4`), 'missing');
    // An operator's candidate parameters never stand in for a token: they ask for the operator's.
    for (const path of ['index.mpd', 'v1/index.m3u8', `v1/${k}.m4s`])
      expect((await fetch(`${url}/live/${event}/${path}?pipeline=A`)).status, path).toBe(401);
    const operatorFetch = await fetch(`${url}/live/${event}/v1/${k}.m4s?pipeline=A`, {
      headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` },
    });
    expect(operatorFetch.status).toBe(200);
  });

  it('refuses bad tokens with their reason', async () => {
    const valid = await devPlayerToken(event);
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, string][] = [
      ['malformed', 'garbage'],
      ['bad-signature', valid.replace(/hmac=./, (h) => `hmac=${h.endsWith('0') ? '1' : '0'}`)],
      ['expired', await devPlayerToken(event, { expiresAt: now - 10 })],
      ['not-yet-valid', await devPlayerToken(event, { startsAt: now + 600 })],
      ['acl', await devPlayerToken('another-event')],
      ['ip', await devPlayerToken(event, { ip: '203.0.113.7' })],
    ];
    for (const [reason, token] of cases) {
      const res = await fetch(`${url}/live/${event}/v1/${k}.m4s?token=${encodeURIComponent(token)}`);
      await refusedWith(res, reason);
    }
  });

  it('serves with a query token; the manifest carries it in its URLs and sets the cookie', async () => {
    const token = await devPlayerToken(event);
    const seg = await fetch(`${url}/live/${event}/v1/${k}.m4s?token=${token}`);
    expect(seg.status).toBe(200);
    expect(seg.headers.get('cache-control')).toMatch(/^private, /);
    expect(parseEventState(seg.headers.get(EVENT_STATE_HEADER))?.tokens).toBe(true);

    const mpd = await fetch(`${url}/live/${event}/index.mpd?token=${token}`);
    expect(mpd.status).toBe(200);
    const text = await mpd.text();
    expect(text).toContain(`media="$RepresentationID$/$Number$.m4s?token=${token}"`);
    expect(text).toContain(`initialization="$RepresentationID$/init.mp4?token=${token}"`);
    // These bytes are this token's: no ETag of the shared cached page (a newer token would get a 304).
    expect(mpd.headers.get('etag')).toBeNull();
    const cookies = mpd.headers.getSetCookie();
    expect(cookies).toContainEqual(
      expect.stringMatching(
        new RegExp(`^player-token=${literal(token)}; Path=/live/${event}/; Max-Age=\\d+; HttpOnly; SameSite=Strict$`),
      ),
    );
    expect(cookies.some((c) => c.includes(`Path=/drm/clearkey/${event}`))).toBe(true);

    const playlist = await (await fetch(`${url}/live/${event}/v1/index.m3u8?token=${token}`)).text();
    const uris = playlist.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(uris.length).toBeGreaterThan(0);
    for (const uri of uris) expect(uri).toMatch(new RegExp(`^\\d+\\.m4s\\?token=${literal(token)}$`));
    expect(playlist).toContain(`#EXT-X-MAP:URI="init.mp4?token=${token}"`);
  });

  it('serves with the cookie alone (what a player that drops the query sends)', async () => {
    const cookie = `player-token=${await devPlayerToken(event)}`;
    expect((await fetch(`${url}/live/${event}/v1/${k}.m4s`, { headers: { cookie } })).status).toBe(200);
    const mpd = await fetch(`${url}/live/${event}/index.mpd`, { headers: { cookie } });
    expect(mpd.status).toBe(200);
    // No query token: nothing to copy into the URLs.
    expect(await mpd.text()).not.toContain('token=');
  });

  it('keeps tokens out of the cache: two players, two tokens, one origin fill', async () => {
    // A fresh version: the next manifest is filled from the origin, once.
    expect((await fetch(`${url}/api/events/${event}/version`, { method: 'POST', headers: operator })).status).toBe(200);
    const first = await devPlayerToken(event, { sessionId: 'viewer-1' });
    const second = await devPlayerToken(event, { sessionId: 'viewer-2' });
    const a = await fetch(`${url}/live/${event}/v1/index.m3u8?token=${first}`);
    const b = await fetch(`${url}/live/${event}/v1/index.m3u8?token=${second}`);
    expect([a.status, b.status]).toEqual([200, 200]);
    const [textA, textB] = [await a.text(), await b.text()];
    expect(textA).toContain(first);
    expect(textA).not.toContain(second);
    expect(textB).toContain(second);
    expect(textB).not.toContain(first);
    expect(a.headers.get('x-cache')).toBe('origin');
    expect(b.headers.get('x-cache')).toBe('hot');
    // The same bytes apart from the tokens: one cached answer made both.
    expect(textA.replaceAll(first, 'T')).toBe(textB.replaceAll(second, 'T'));
  });

  it('accepts a token signed with the previous key (rotation)', async () => {
    const token = await devPlayerToken(event, {}, DEV_PLAYER_TOKEN_KEY_PREVIOUS);
    expect((await fetch(`${url}/live/${event}/v1/${k}.m4s?token=${token}`)).status).toBe(200);
  });

  it('opens again when switched off (once this isolate stops trusting its memory of the event)', async () => {
    expect((await setConfig(event, { playerTokens: 'off' })).status).toBe(200);
    await new Promise((r) => setTimeout(r, REMEMBERED_STATE_TRUST_MS));
    const res = await fetch(`${url}/live/${event}/index.mpd`);
    expect(res.status).toBe(200);
    expect(parseEventState(res.headers.get(EVENT_STATE_HEADER))?.tokens).toBeUndefined();
    expect(res.headers.get('cache-control')).toMatch(/^public, /);
  });
});

describe('an open event', () => {
  it('needs no token, and a valid query token still comes back in the URLs (its claims personalise)', async () => {
    const { event, k } = await publishedEvent('open');
    expect((await fetch(`${url}/live/${event}/v1/${k}.m4s`)).status).toBe(200);
    // An invalid token on an open event is ignored, not refused, and never copied.
    const junk = await fetch(`${url}/live/${event}/v1/index.m3u8?token=junk`);
    expect(junk.status).toBe(200);
    expect(await junk.text()).not.toContain('token=');
    const token = await devPlayerToken(event, { device: 'browser' });
    expect(await (await fetch(`${url}/live/${event}/v1/index.m3u8?token=${token}`)).text()).toContain(
      `?token=${token}`,
    );
    // The same device claim in the cookie alone: the manifest is shaped for that device, so no
    // downstream cache may hand it to other viewers of the plain URL.
    const byCookie = await fetch(`${url}/live/${event}/index.mpd`, { headers: { cookie: `player-token=${token}` } });
    expect(byCookie.status).toBe(200);
    expect(byCookie.headers.get('cache-control')).toMatch(/^private, /);
    expect((await fetch(`${url}/live/${event}/index.mpd`)).headers.get('cache-control')).toMatch(/^public, /);
  });
});

describe('the license endpoint', () => {
  it('wants a valid token for the event whatever its switch, and then hands out its keys', async () => {
    const event = randomEventId('lic');
    const put = await fetch(`${url}/api/events/${event}/drm`, {
      method: 'PUT',
      headers: operator,
      body: JSON.stringify({ drm: { scheme: 'cenc' } }),
    });
    expect(put.status).toBe(200);
    expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init)).status).toBe(201);
    const key = await new LocalKeyStore().getKey(event, 'video', 0);
    const body = JSON.stringify({ kids: [toBase64Url(key.kid)], type: 'temporary' });
    const license = (query = '') => fetch(`${url}/drm/clearkey/${event}${query}`, { method: 'POST', body });

    const anonymous = await license();
    expect(await anonymous.clone().text()).not.toContain(toBase64Url(key.key));
    await refusedWith(anonymous, 'missing');
    await refusedWith(await license(`?token=${await devPlayerToken('other')}`), 'acl');
    // A token for the event's live paths only does not open its keys.
    await refusedWith(await license(`?token=${await devPlayerToken(event, { acl: [`/live/${event}/*`] })}`), 'acl');

    const granted = await license(`?token=${await devPlayerToken(event)}`);
    expect(granted.status).toBe(200);
    expect(((await granted.json()) as { keys: { k: string }[] }).keys[0].k).toBe(toBase64Url(key.key));
  });
});

describe('the development key store', () => {
  const putDrm = async (vars: Partial<Env>, event: string, drm: unknown) => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`${url}/api/events/${event}/drm`, {
        method: 'PUT',
        headers: operator,
        body: JSON.stringify({ drm }),
      }),
      { ...env, ...vars } as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return res;
  };

  it('is refused without ALLOW_DEV_KEYS=true, and nothing is stored', async () => {
    for (const value of [undefined, 'false', '1', 'TRUE']) {
      const event = randomEventId('devkeys');
      for (const drm of [{ scheme: 'cenc' }, { scheme: 'cbcs', keys: { provider: 'local' } }]) {
        const res = await putDrm({ ALLOW_DEV_KEYS: value }, event, drm);
        expect(res.status, `ALLOW_DEV_KEYS=${value}`).toBe(403);
        expect(((await res.json()) as ErrorBody).error.code).toBe('DEV_KEYS_NOT_ALLOWED');
      }
      // Nothing stored: the event is still clear, so its first init goes in unprotected.
      expect((await ingestPut(url, `${event}/A/v1/init.mp4`, video.init)).status).toBe(201);
      const init = new Uint8Array(await (await fetch(`${url}/live/${event}/v1/init.mp4`)).arrayBuffer());
      expect(Buffer.from(init).includes(Buffer.from('encv'))).toBe(false);
    }
  });

  it('is allowed with it (this test environment reads .dev.vars: ALLOW_DEV_KEYS=true)', async () => {
    expect(env.ALLOW_DEV_KEYS).toBe('true');
    expect((await putDrm({}, randomEventId('devkeys'), { scheme: 'cenc' })).status).toBe(200);
    // A CPIX key service is never the development store: accepted without the flag.
    const cpix = { scheme: 'cenc', keys: { provider: 'cpix', url: 'https://keys.example/cpix' } };
    expect((await putDrm({ ALLOW_DEV_KEYS: undefined }, randomEventId('devkeys'), cpix)).status).toBe(200);
  });
});

describe('minting: POST /api/events/{event}/player-tokens', () => {
  it('signs a token for the event that plays it, validates the body, needs operator:write', async () => {
    const { event, k } = await publishedEvent('mint');
    const mint = (body: unknown, headers: Record<string, string> = operator) =>
      fetch(`${url}/api/events/${event}/player-tokens`, { method: 'POST', headers, body: JSON.stringify(body) });
    const res = await mint({ ttlSeconds: 600, sessionId: 's1', device: 'tv-hevc' });
    expect(res.status).toBe(201);
    const minted = (await res.json()) as { token: string; acl: string[]; kid: string; expiresAt: string };
    expect(minted.acl).toEqual([`/live/${event}/*`, `/drm/clearkey/${event}`]);
    expect(minted.token).toContain('~id=s1~dev=tv-hevc~');
    expect(Date.parse(minted.expiresAt) - Date.now()).toBeGreaterThan(590_000);
    expect((await setConfig(event, { playerTokens: 'required' })).status).toBe(200);
    expect((await fetch(`${url}/live/${event}/v1/${k}.m4s?token=${minted.token}`)).status).toBe(200);

    for (const bad of [{ ttlSeconds: 0 }, { acl: ['/live/other/*'] }, { acl: [`/live/${event}*`] }, { typo: 1 }]) {
      const r = await mint(bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(((await r.json()) as ErrorBody).error.code).toBe('BAD_BODY');
    }
    expect(
      (await mint({}, { authorization: 'Bearer dev-operator-read-token', 'content-type': 'application/json' })).status,
    ).toBe(403);
  });
});

function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
