import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withTokenUrls } from './token-urls.ts';

const expected = (path: string) =>
  readFileSync(new URL(`../testdata/expected/manifests/${path}`, import.meta.url), 'utf8');
const TOKEN = 'exp=1770003600~acl=/live/demo/*!/drm/clearkey/demo~kid=k1a2b3c4d~hmac=' + 'ab'.repeat(32);
const HLS = 'application/vnd.apple.mpegurl';
const MPD = 'application/dash+xml';

describe('withTokenUrls', () => {
  it('HLS multivariant: every rendition and variant URI carries the token, data: key URIs do not', () => {
    const before = expected('cenc-clearkey/index.m3u8');
    const after = withTokenUrls(before, HLS, TOKEN);
    const lines = after.split('\n');
    const uriLines = lines.filter((l) => l && !l.startsWith('#'));
    expect(uriLines.length).toBeGreaterThan(0);
    for (const l of uriLines) expect(l).toMatch(new RegExp(`\\?token=${literal(TOKEN)}$`));
    for (const m of after.matchAll(/URI="([^"]*)"/g)) {
      if (m[1].startsWith('data:')) expect(m[1]).not.toContain('token=');
      else expect(m[1]).toContain(`?token=${TOKEN}`);
    }
    // Only URIs changed: the same lines, in the same order.
    expect(lines.length).toBe(before.split('\n').length);
  });

  it('HLS media playlist: the init and every segment carry it; an existing query gets &token=', () => {
    const before =
      '#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:2.000,\n885000001.m4s\n#EXTINF:2.000,\n../next/v1/885000002.m4s?x=1\n';
    expect(withTokenUrls(before, HLS, TOKEN)).toBe(
      `#EXTM3U\n#EXT-X-MAP:URI="init.mp4?token=${TOKEN}"\n#EXTINF:2.000,\n885000001.m4s?token=${TOKEN}\n#EXTINF:2.000,\n../next/v1/885000002.m4s?x=1&token=${TOKEN}\n`,
    );
  });

  it('HLS: absolute URIs (another host) never get the token', () => {
    const before = '#EXTM3U\nhttps://elsewhere.example/a.m3u8\n#EXT-X-MEDIA:URI="//cdn.example/b.m3u8"\n';
    expect(withTokenUrls(before, HLS, TOKEN)).toBe(before);
  });

  it('DASH: SegmentTemplate media and initialization, and the ClearKey license URL', () => {
    const before = expected('cenc-clearkey/index.mpd');
    const after = withTokenUrls(before, MPD, TOKEN);
    const templates = [...after.matchAll(/<SegmentTemplate\b[^>]*>/g)].map((m) => m[0]);
    expect(templates.length).toBeGreaterThan(0);
    for (const t of templates) {
      expect(t).toMatch(new RegExp(`media="[^"]*\\.m4s\\?token=${literal(TOKEN)}"`));
      expect(t).toMatch(new RegExp(`initialization="[^"]*init\\.mp4\\?token=${literal(TOKEN)}"`));
    }
    const laUrls = [...after.matchAll(/<clearkey:Laurl[^>]*>([^<]*)</g)].map((m) => m[1]);
    expect(laUrls.length).toBeGreaterThan(0);
    for (const u of laUrls) expect(u).toBe(`https://edge.example/drm/clearkey/cenc-clearkey?token=${TOKEN}`);
    // Nothing else moved.
    expect(after.replaceAll(`?token=${TOKEN}`, '')).toBe(before);
  });

  it('DASH: an existing query in a template is extended with &amp;', () => {
    const before = '<SegmentTemplate media="$RepresentationID$/$Number$.m4s?a=1" initialization="x/init.mp4"/>';
    expect(withTokenUrls(before, MPD, 'T')).toBe(
      '<SegmentTemplate media="$RepresentationID$/$Number$.m4s?a=1&amp;token=T" initialization="x/init.mp4?token=T"/>',
    );
  });

  it('leaves anything else alone', () => {
    expect(withTokenUrls('{"a":1}', 'application/json', TOKEN)).toBe('{"a":1}');
  });
});

function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
