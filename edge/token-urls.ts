/**
 * A player that got its token as `?token=` gets it back in every URL of the manifest it asked
 * for, so its segment, playlist and license requests carry it too. Done per request on the bytes
 * the edge cache kept (which never hold a token): one cached manifest serves every player.
 *
 * - HLS: every URI line and every `URI="…"` attribute that is relative (the playlists' own media,
 *   inits and rendition playlists); `data:` key URIs and absolute URIs stay as they are.
 * - DASH: `media` and `initialization` of every SegmentTemplate (a query on BaseURL would be
 *   dropped when a relative template is resolved against it, RFC 3986 §5.2.2, and DASH-IF
 *   UrlQueryInfo is read by dash.js but not by every player; a query in the template is), and the
 *   ClearKey license URL (`clearkey:Laurl`, `dashif:laurl`).
 *
 * A verified token is copied as it is: its characters (contract/player-token.ts) need no escaping
 * in a query, an XML attribute or an HLS quoted string, and hold no `$` (the template escape).
 */
export const TOKEN_PARAM = 'token';

export function withTokenUrls(body: string, contentType: string, token: string): string {
  if (contentType.startsWith('application/dash+xml')) return mpdWithToken(body, token);
  if (contentType.startsWith('application/vnd.apple.mpegurl')) return playlistWithToken(body, token);
  return body;
}

const isRelative = (uri: string) => uri !== '' && !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri) && !uri.startsWith('//');

function addQuery(uri: string, token: string, ampersand: string): string {
  const hash = uri.indexOf('#');
  const [path, fragment] = hash < 0 ? [uri, ''] : [uri.slice(0, hash), uri.slice(hash)];
  return `${path}${path.includes('?') ? ampersand : '?'}${TOKEN_PARAM}=${token}${fragment}`;
}

function playlistWithToken(body: string, token: string): string {
  return body
    .split('\n')
    .map((line) => {
      const trimmed = line.trim();
      if (trimmed === '') return line;
      if (!trimmed.startsWith('#')) return isRelative(trimmed) ? addQuery(trimmed, token, '&') : line;
      return line.replace(/URI="([^"]*)"/g, (whole, uri: string) =>
        isRelative(uri) ? `URI="${addQuery(uri, token, '&')}"` : whole,
      );
    })
    .join('\n');
}

function mpdWithToken(body: string, token: string): string {
  const templated = body.replace(/<SegmentTemplate\b[^>]*>/g, (tag) =>
    tag.replace(/\s(media|initialization)="([^"]*)"/g, (whole, name: string, uri: string) =>
      isRelative(uri) ? ` ${name}="${addQuery(uri, token, '&amp;')}"` : whole,
    ),
  );
  // The license URL is absolute (this host): it gets the token too, so a player that reads it
  // from the MPD (dash.js, shaka) is entitled to the keys.
  return templated.replace(
    /(<(clearkey:Laurl|dashif:laurl)\b[^>]*>)([^<]*)(<\/\2>)/g,
    (_whole, open: string, _name: string, uri: string, close: string) =>
      `${open}${addQuery(uri.trim(), token, '&amp;')}${close}`,
  );
}
