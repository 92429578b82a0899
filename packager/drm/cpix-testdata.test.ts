/**
 * The checked-in CPIX answer (testdata/drm/cpix-answer.xml): the parser reads every key with its
 * track type and key period, the KIDs are the ones CpixKeyProvider asks for, and the provider,
 * answered with this document, hands out exactly the documented keys. The request it sends is a
 * golden file (testdata/expected/drm/).
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../contract/errors.ts';
import { expectGoldenText } from '../../test/golden.ts';
import { cpixAnswerText } from '../../test/testdata-drm.ts';
import { parseCpix } from './cpix.ts';
import { CpixKeyProvider, kidFor } from './cpix-key-provider.ts';
import { kidToUuid, toHex } from './keys.ts';

/** The keys as testdata/README.md lists them: [track type, period, KID, key (hex)]. */
const DOCUMENTED = [
  ['VIDEO', 0, 'a6cde764-f2cb-489a-bff1-8f2a64ad3b9b', '110687882343216d96f0e0810a1dab6b'],
  ['AUDIO', 0, 'dda1a253-5fcf-424c-8e9e-363e39de3f32', 'bc471927906a618f7b13e8fef9f28834'],
  ['VIDEO', 1, '72f99aeb-4a14-4f10-b9a8-5282725702ed', '93e830e8700a050025ed37cc9460dcbc'],
  ['AUDIO', 1, 'a195bac5-9897-4df5-b81a-22da2ff32b38', 'b8d5f53e5f8f5c43dd0e9b37503abc51'],
] as const;

describe('testdata/drm/cpix-answer.xml', () => {
  it('parses to the documented keys, each with its track type and key period', () => {
    const doc = parseCpix(cpixAnswerText(), (m) => new AppError('BAD_BODY', m));
    expect(doc.contentId).toBe('testdata');
    expect(doc.keys.map((k) => [k.trackType, k.periodIndex, kidToUuid(k.kid), k.key && toHex(k.key)])).toEqual(
      DOCUMENTED,
    );
  });

  it('holds the KIDs CpixKeyProvider asks for (kidFor(event, kind, period))', async () => {
    for (const [type, period, kid] of DOCUMENTED) {
      const kind = type === 'VIDEO' ? 'video' : 'audio';
      expect(kidToUuid(await kidFor('testdata', kind, period))).toBe(kid);
    }
  });

  it('answered by a key service, gives CpixKeyProvider the documented keys; its request is the golden one', async () => {
    const requests: string[] = [];
    const provider = new CpixKeyProvider({
      url: 'https://keys.example/cpix',
      scheme: 'cenc',
      rotating: true,
      fetch: async (_url, init) => {
        requests.push(String(init?.body));
        return new Response(cpixAnswerText(), { headers: { 'content-type': 'application/xml' } });
      },
    });
    for (const [type, period, kid, key] of DOCUMENTED) {
      const got = await provider.getKey('testdata', type === 'VIDEO' ? 'video' : 'audio', period);
      expect([kidToUuid(got.kid), toHex(got.key)]).toEqual([kid, key]);
    }
    // One request per key period, naming both KIDs of that period.
    expect(requests.length).toBe(2);
    expectGoldenText('drm/cpix-request-period-0.xml', requests[0]);
    expectGoldenText('drm/cpix-request-period-1.xml', requests[1]);
  });

  it('is refused with a clear reason when a key is damaged', () => {
    const damaged = cpixAnswerText().replace('EQaHiCNDIW2W8OCBCh2raw==', 'EQaHiCNDIW2W8OCBCh2r');
    expect(() => parseCpix(damaged, (m) => new AppError('KEY_SERVICE_BAD_ANSWER', m))).toThrow(
      /a6cde764-f2cb-489a-bff1-8f2a64ad3b9b: a content key is 16 bytes in base64/,
    );
  });
});
