import { toCmcdHeaders, toCmcdQuery } from '@svta/cml-cmcd';
import { describe, expect, it } from 'vitest';
import { firstNumber, readCmcd } from './cmcd.ts';

const SEGMENT = 'https://edge.example/live/ev/v1/885000001.m4s';

describe('readCmcd', () => {
  it('reads CMCD v1 from the query (what dash.js sends in query mode)', () => {
    const query = encodeURIComponent('bl=21300,br=3200,bs,d=2000,ot=v,sf=d,sid="6e2fb550",st=l,su,tb=6000');
    const reading = readCmcd(new Request(`${SEGMENT}?CMCD=${query}`));
    expect(reading.state).toBe('present');
    if (reading.state !== 'present') return;
    // v1 scalars come up-converted to v2 inner lists: one shape for both versions.
    expect(reading.data).toMatchObject({ br: [3200], bs: true, su: true, ot: 'v', sf: 'd', st: 'l', sid: '6e2fb550' });
    expect(firstNumber(reading.data.br)).toBe(3200);
  });

  it('reads CMCD from the four headers', () => {
    const headers = toCmcdHeaders({ br: [800], ot: 'a', sid: 'abc', st: 'l', bs: true, v: 2 } as never);
    expect(Object.keys(headers).sort()).toEqual(['CMCD-Object', 'CMCD-Session', 'CMCD-Status'].sort());
    const reading = readCmcd(new Request(SEGMENT, { headers }));
    expect(reading).toMatchObject({ state: 'present', data: { br: [800], ot: 'a', sid: 'abc', st: 'l', bs: true } });
  });

  it('merges query and headers (a player may send some keys each way)', () => {
    const reading = readCmcd(
      new Request(`${SEGMENT}?${toCmcdQuery({ sid: 'q1', su: true })}`, { headers: { 'CMCD-Object': 'br=1500,ot=v' } }),
    );
    expect(reading).toMatchObject({ state: 'present', data: { sid: 'q1', su: true, br: [1500], ot: 'v' } });
  });

  it('reads a v2 inner list with several bitrates (the first is the requested one)', () => {
    const reading = readCmcd(new Request(SEGMENT, { headers: { 'CMCD-Object': 'br=(3200 800),ot=v' } }));
    expect(reading.state === 'present' && firstNumber(reading.data.br)).toBe(3200);
  });

  it('says absent without CMCD, and malformed when it does not parse', () => {
    expect(readCmcd(new Request(`${SEGMENT}?x=1`))).toEqual({ state: 'absent' });
    expect(readCmcd(new Request(`${SEGMENT}?CMCD=${encodeURIComponent('br=(((')}`))).toEqual({ state: 'malformed' });
    expect(readCmcd(new Request(SEGMENT, { headers: { 'CMCD-Request': 'bl=="' } }))).toEqual({ state: 'malformed' });
  });
});
