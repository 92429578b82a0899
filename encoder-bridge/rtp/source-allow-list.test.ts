import { describe, expect, it } from 'vitest';
import { LOCAL_SOURCES, RtpAllowList } from './source-allow-list.ts';

describe('RTP source allow-list', () => {
  it('by default accepts this machine only, on both paths, from any port (v4-mapped v6 included)', () => {
    const list = RtpAllowList.parse(LOCAL_SOURCES);
    for (const path of [0, 1]) {
      expect(list.allows(path, '127.0.0.1', 40000)).toBe(true);
      expect(list.allows(path, '::1', 5)).toBe(true);
      expect(list.allows(path, '::ffff:127.0.0.1', 5)).toBe(true);
      expect(list.allows(path, '127.0.0.2', 40000)).toBe(false);
      expect(list.allows(path, '192.0.2.1', 40000)).toBe(false);
    }
  });

  it('takes entries per path and per port, IPv6 in brackets when a port follows, and * for any address', () => {
    const list = RtpAllowList.parse('path1=203.0.113.10:5000,path2=[2001:db8::7]:5002,2001:db8::9,*:6000');
    expect(list.allows(0, '203.0.113.10', 5000)).toBe(true);
    expect(list.allows(0, '203.0.113.10', 5001)).toBe(false);
    expect(list.allows(1, '203.0.113.10', 5000)).toBe(false); // path 1 only
    expect(list.allows(1, '2001:DB8::7', 5002)).toBe(true);
    expect(list.allows(0, '2001:db8::9', 1)).toBe(true);
    expect(list.allows(1, '198.51.100.1', 6000)).toBe(true);
    expect(list.allows(1, '198.51.100.1', 6001)).toBe(false);
    expect(String(list)).toBe('path1=203.0.113.10:5000,path2=[2001:db8::7]:5002,2001:db8::9,*:6000');
    expect(RtpAllowList.parse('*').allows(0, '198.51.100.1', 1)).toBe(true);
  });

  it('refuses what it cannot read, saying which entry', () => {
    for (const [text, why] of [
      ['venue.example:5000', /IP address or \*/],
      ['127.0.0.1:http', /port must be a number/],
      ['127.0.0.1:70000', /port out of range/],
      ['path3=127.0.0.1', /IP address/],
      ['127.0.0.1,', /empty entry/],
    ] as const) {
      const parsed = RtpAllowList.safeParse(text);
      expect(parsed.success, text).toBe(false);
      expect(parsed.error?.issues[0].message, text).toMatch(why);
    }
  });
});
