import { decodeCmsdDynamic, decodeCmsdStatic } from '@svta/cml-cmsd';
import { describe, expect, it } from 'vitest';
import {
  CMSD_CACHE_KEY,
  CMSD_SERVER,
  cmsdDynamic,
  cmsdStatic,
  rememberLadder,
  suggestedMaxKbps,
  underDuress,
} from './cmsd.ts';

const limits = { maxOriginRequests: 10, dvrShare: 0.5 };
const token = (v: unknown) => (typeof v === 'symbol' ? v.description : v);

describe('CMSD-Static', () => {
  it('describes a live segment and parses back with the library', () => {
    const header = cmsdStatic({ ot: 'v', at: 1_796_000_000_123.4, d: 2000, br: 2999.6 });
    expect(header).toBe('ot=v,st=l,at=1796000000123,d=2000,br=3000');
    expect(decodeCmsdStatic(header)).toEqual({ ot: 'v', st: 'l', at: 1_796_000_000_123, d: 2000, br: 3000 });
  });

  it('leaves out what is not known', () => {
    expect(decodeCmsdStatic(cmsdStatic({ ot: 'i' }))).toEqual({ ot: 'i', st: 'l' });
    expect(decodeCmsdStatic(cmsdStatic({ ot: 'm', sf: 'h', at: 5 }))).toEqual({ ot: 'm', st: 'l', sf: 'h', at: 5 });
  });
});

describe('CMSD-Dynamic', () => {
  it('names this edge, the response delay and whether the edge cache answered', () => {
    const hit = decodeCmsdDynamic(cmsdDynamic({ source: 'hot', responseDelayMs: 3.2, duress: false }));
    expect(hit).toHaveLength(1);
    expect(hit[0].value).toBe(CMSD_SERVER);
    expect(hit[0].params.rd).toBe(3);
    expect(token(hit[0].params[CMSD_CACHE_KEY])).toBe('hit');
    expect(hit[0].params.du).toBeUndefined();
    for (const source of ['shared', 'stale'] as const)
      expect(
        token(decodeCmsdDynamic(cmsdDynamic({ source, responseDelayMs: 0, duress: false }))[0].params[CMSD_CACHE_KEY]),
      ).toBe('hit');
    for (const source of ['origin', 'coalesced', 'shed'] as const)
      expect(
        token(decodeCmsdDynamic(cmsdDynamic({ source, responseDelayMs: 0, duress: false }))[0].params[CMSD_CACHE_KEY]),
      ).toBe('miss');
  });

  it('under duress says so and suggests a maximum bitrate', () => {
    const [hop] = decodeCmsdDynamic(
      cmsdDynamic({ source: 'origin', responseDelayMs: 40, duress: true, maxBitrateKbps: 799.7, colo: 'FRA' }),
    );
    expect(hop.value).toBe(`${CMSD_SERVER}/FRA`);
    expect(hop.params).toMatchObject({ du: true, mb: 800, rd: 40 });
  });

  it('is under duress while DVR misses are refused and for a few seconds after a shed miss', () => {
    expect(underDuress(4, Number.NEGATIVE_INFINITY, 0, limits)).toBe(false);
    expect(underDuress(5, Number.NEGATIVE_INFINITY, 0, limits)).toBe(true);
    expect(underDuress(0, 10_000, 14_999, limits)).toBe(true);
    expect(underDuress(0, 10_000, 15_000, limits)).toBe(false);
  });

  it('suggests the lowest video rung of the event ladder', () => {
    const track = (id: string, kind: 'video' | 'audio', bandwidth: number) =>
      ({ id, kind, bandwidth, codecs: '', timescale: 1 }) as const;
    rememberLadder('ev-ladder', [
      track('v1', 'video', 3_000_000),
      track('v2', 'video', 800_000),
      track('a', 'audio', 64_000),
    ]);
    expect(suggestedMaxKbps('ev-ladder')).toBe(800);
    expect(suggestedMaxKbps('ev-unknown')).toBeUndefined();
  });
});
