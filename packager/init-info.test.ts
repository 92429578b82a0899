import { beforeAll, describe, expect, it } from 'vitest';
import { encodeMedia, type Media } from '../test/fixtures.ts';
import { protectInit } from './drm/cenc-init.ts';
import { LocalKeyStore, toHex } from './drm/keys.ts';
import { readTrackProtection } from './drm/track-protection.ts';
import { readInitInfo } from './init-info.ts';

let video: Media;
let audio: Media;
beforeAll(async () => {
  [video, audio] = await Promise.all([encodeMedia({ kind: 'video', size: '640x360' }), encodeMedia({ kind: 'audio' })]);
});

describe('readInitInfo on protected headers', () => {
  for (const scheme of ['cenc', 'cbcs'] as const) {
    it(`${scheme}: reads the original format from sinf/frma and exposes scheme and default KID`, async () => {
      const keys = new LocalKeyStore();
      for (const media of [video, audio]) {
        const key = await keys.getKey('t', media.info.kind as 'video' | 'audio', 0);
        const { init, protection } = protectInit(media.init, { scheme, key, constantIv: new Uint8Array(16).fill(7) });
        const info = readInitInfo(init);
        expect(info).toEqual({ ...media.info, protection: { scheme, defaultKid: toHex(key.kid) } });
        expect(media.info.protection).toBeUndefined();
        // What encryptSegment needs can be read back from the stored header alone.
        expect(readTrackProtection(init)).toEqual(protection);
        expect(readTrackProtection(media.init)).toBeUndefined();
      }
    });
  }
});
