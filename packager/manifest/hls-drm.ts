import type { TrackDescriptor } from '../../contract/track.ts';
import { fromHex } from '../drm/keys.ts';
import { SYSTEM_IDS } from '../drm/pssh.ts';

/**
 * HLS key tags for a protected track: one per DRM system whose pssh the init carries, its pssh as
 * a data URI (the form Shaka and hls.js read for Widevine and ClearKey). cbcs is METHOD=SAMPLE-AES
 * (RFC 8216bis, Apple); cenc is METHOD=SAMPLE-AES-CTR, which only some players (Shaka, hls.js)
 * accept: HLS players on Apple devices need cbcs. `tag` is EXT-X-KEY (media playlist) or
 * EXT-X-SESSION-KEY (multivariant playlist).
 */
export function keyTags(drm: TrackDescriptor['drm'], tag: 'EXT-X-KEY' | 'EXT-X-SESSION-KEY'): string[] {
  if (!drm) return [];
  const method = drm.scheme === 'cbcs' ? 'SAMPLE-AES' : 'SAMPLE-AES-CTR';
  const keyId = `0x${drm.defaultKid.replace(/-/g, '')}`;
  const systems: [string, string | undefined][] = [
    [SYSTEM_IDS.widevine, drm.pssh.widevine],
    [SYSTEM_IDS.playready, drm.pssh.playready],
    [SYSTEM_IDS.clearkey, drm.pssh.clearkey],
  ];
  const tags = systems
    .filter((s): s is [string, string] => s[1] !== undefined)
    .map(
      ([id, pssh]) =>
        `#${tag}:METHOD=${method},URI="data:text/plain;base64,${pssh}",KEYID=${keyId},KEYFORMAT="urn:uuid:${id}",KEYFORMATVERSIONS="1"`,
    );
  // hls.js knows ClearKey only as KEYFORMAT "org.w3.clearkey", and reads the KID from the URI's
  // data (its first 16 bytes), not from a pssh; the license server comes from the player's config.
  if (drm.pssh.clearkey !== undefined) {
    const kid = btoa(String.fromCharCode(...fromHex(drm.defaultKid.replace(/-/g, ''))));
    tags.push(
      `#${tag}:METHOD=${method},URI="data:text/plain;base64,${kid}",KEYID=${keyId},KEYFORMAT="org.w3.clearkey",KEYFORMATVERSIONS="1"`,
    );
  }
  return tags;
}
