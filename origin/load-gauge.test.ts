import { describe, expect, it } from 'vitest';
import { defaultEventConfig } from '../contract/event-config.ts';
import { LoadGauge } from './load-gauge.ts';

const config = { ...defaultEventConfig, maxSegmentRequestsPerSecond: 10, dvrShareOfRequests: 0.5 };

describe('LoadGauge', () => {
  it('sheds DVR requests at their share while live-edge requests still get the rest', () => {
    const g = new LoadGauge();
    const t = 1_000_000;
    const dvr = Array.from({ length: 8 }, () => g.admit(t, 'dvr', config));
    expect(dvr.filter(Boolean).length).toBe(5);
    const live = Array.from({ length: 8 }, () => g.admit(t + 10, 'live', config));
    expect(live.filter(Boolean).length).toBe(5);
    expect(g.rate(t + 10)).toBe(10);
  });

  it('forgets requests older than one second', () => {
    const g = new LoadGauge();
    for (let i = 0; i < 10; i++) g.admit(5_000_000 + i * 10, 'live', config);
    expect(g.admit(5_000_500, 'live', config)).toBe(false);
    expect(g.rate(5_001_100)).toBe(0);
    expect(g.admit(5_001_100, 'dvr', config)).toBe(true);
  });
});
