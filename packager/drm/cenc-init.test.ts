import { beforeAll, describe, expect, it } from 'vitest';
import { encodeMedia, type Media } from '../../test/fixtures.ts';
import { children, containerTypes, readBoxes, type Box } from '../bmff/box-reader.ts';
import { protectInit } from './cenc-init.ts';
import { LocalKeyStore } from './keys.ts';
import { guidBytes, playreadyObject, widevineData } from './pssh.ts';

let video: Media;
beforeAll(async () => {
  video = await encodeMedia({ kind: 'video', size: '640x360' });
});

/** Walk every container (and sample entries) so that any size we failed to fix up throws. */
function walk(bytes: Uint8Array, boxes: Box[], out: string[] = [], path = ''): string[] {
  for (const b of boxes) {
    const here = `${path}/${b.type}`;
    out.push(here);
    if (containerTypes.has(b.type)) walk(bytes, children(bytes, b), out, here);
    if (b.type === 'stsd') walk(bytes, children(bytes, b, 8), out, here);
    if (b.type === 'encv') walk(bytes, readBoxes(bytes, b.payload + 78, b.end), out, here);
  }
  return out;
}

describe('protectInit', () => {
  it('adds sinf to the sample entry and pssh to moov, with every ancestor size consistent', async () => {
    const key = await new LocalKeyStore().getKey('t', 'video', 0);
    const { init } = protectInit(video.init, { scheme: 'cenc', key });
    const paths = walk(init, readBoxes(init));
    const entry = '/moov/trak/mdia/minf/stbl/stsd/encv';
    expect(paths).toEqual(
      expect.arrayContaining([`${entry}/avcC`, `${entry}/sinf/frma`, `${entry}/sinf/schm`, `${entry}/sinf/schi/tenc`]),
    );
    expect(paths.filter((p) => p === '/moov/pssh')).toHaveLength(3);
    expect(init.byteLength - video.init.byteLength).toBeGreaterThan(0);
    expect(() => protectInit(init, { scheme: 'cenc', key })).toThrow(/already protected/);
  });

  it('writes Widevine key_ids and protection_scheme, and a PlayReady header with the GUID-ordered KID', () => {
    const kid = Uint8Array.from({ length: 16 }, (_, i) => i);
    const wv = widevineData({ scheme: 'cbcs', kids: [kid] });
    expect(Array.from(wv.subarray(0, 2))).toEqual([0x12, 16]);
    expect(Array.from(wv.subarray(18, 19))).toEqual([0x48]);
    const pro = playreadyObject({ scheme: 'cenc', kids: [kid] });
    const dv = new DataView(pro.buffer);
    expect(dv.getUint32(0, true)).toBe(pro.byteLength);
    const xml = new TextDecoder('utf-16le').decode(pro.subarray(10));
    expect(xml).toContain(`<KID>${btoa(String.fromCharCode(...guidBytes(kid)))}</KID>`);
    expect(Array.from(guidBytes(kid).subarray(0, 8))).toEqual([3, 2, 1, 0, 5, 4, 7, 6]);
    expect(new TextDecoder('utf-16le').decode(playreadyObject({ scheme: 'cbcs', kids: [kid] }).subarray(10))).toContain(
      'ALGID="AESCBC"',
    );
  });
});
