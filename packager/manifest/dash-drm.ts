import type { TrackDescriptor } from '../../contract/track.ts';
import { SYSTEM_IDS } from '../drm/pssh.ts';

/** Namespaces of the DRM descriptors, declared on MPD when any track is protected. */
export const DRM_NAMESPACES = {
  'xmlns:cenc': 'urn:mpeg:cenc:2013',
  'xmlns:clearkey': 'http://dashif.org/guidelines/clearKey',
};

type El = (name: string, attrs: Record<string, string | undefined>, children?: string[]) => string;

/**
 * ContentProtection descriptors of one AdaptationSet (DASH-IF IOP 7.x, ISO/IEC 23001-7): the
 * mp4protection one with scheme and default_KID, then one per DRM system with its pssh, and the
 * DASH-IF ClearKey one with the license URL. Empty for a clear set. Every track of a set shares
 * the kind's key, so the first protected track speaks for the set.
 */
export function contentProtection(tracks: TrackDescriptor[], el: El, escapeXml: (t: string) => string): string[] {
  const drm = tracks.find((t) => t.drm)?.drm;
  if (!drm) return [];
  const out = [
    el('ContentProtection', {
      schemeIdUri: 'urn:mpeg:dash:mp4protection:2011',
      value: drm.scheme,
      'cenc:default_KID': drm.defaultKid,
    }),
  ];
  const system = (id: string, value: string, pssh: string | undefined) => {
    if (pssh !== undefined)
      out.push(el('ContentProtection', { schemeIdUri: `urn:uuid:${id}`, value }, [el('cenc:pssh', {}, [pssh])]));
  };
  system(SYSTEM_IDS.widevine, 'Widevine', drm.pssh.widevine);
  system(SYSTEM_IDS.playready, 'MSPR 2.0', drm.pssh.playready);
  // ClearKey is signalled only where the init carries its pssh (a device profile of another
  // system leaves it out: packager/manifest/personalise.ts).
  if (drm.laUrl !== undefined && drm.pssh.clearkey !== undefined) {
    out.push(
      el('ContentProtection', { schemeIdUri: `urn:uuid:${SYSTEM_IDS.dashifClearkey}`, value: 'ClearKey1.0' }, [
        el('clearkey:Laurl', { Lic_type: 'EME-1.0' }, [escapeXml(drm.laUrl)]),
      ]),
    );
  }
  return out;
}
