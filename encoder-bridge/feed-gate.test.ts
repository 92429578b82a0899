import { describe, expect, it } from 'vitest';
import { FeedGate, StreamFeed } from './feed-gate.ts';

function fakeSink() {
  const sink = {
    bytes: [] as number[],
    ends: 0,
    feed: (c: Uint8Array) => (sink.bytes.push(...c), true),
    endOfFeed: () => void sink.ends++,
  };
  return sink;
}

describe('FeedGate: one contribution feed at a time', () => {
  it('refuses and counts a second sender while the first is active; the first ending frees the feed', () => {
    let now = 0;
    const sink = fakeSink();
    const log: string[] = [];
    const gate = new FeedGate({ sink, now: () => now, log: (m) => log.push(m) });
    const first = gate.claim('http', '10.0.0.1:1')!;
    first.feed(Uint8Array.of(1));
    now = 1000;
    expect(gate.claim('http', '10.0.0.2:2')).toBeUndefined();
    expect(gate.claim('srt', 'caller')).toBeUndefined();
    first.feed(Uint8Array.of(2));
    expect(sink.bytes).toEqual([1, 2]);
    expect(gate.status()).toMatchObject({
      active: { input: 'http', peer: '10.0.0.1:1', lastDataAgoMs: 0 },
      refused: { http: 1, rtp: 0, srt: 1 },
      takeovers: 0,
    });
    expect(log).toHaveLength(1); // one line per active feed, not per refusal

    first.end();
    first.end(); // twice is harmless
    expect(sink.ends).toBe(1);
    expect(gate.status().active).toBeNull();
    const second = gate.claim('http', '10.0.0.2:2')!;
    second.feed(Uint8Array.of(3));
    first.feed(Uint8Array.of(99)); // an ended lease never reaches the pipeline
    expect(sink.bytes).toEqual([1, 2, 3]);
  });

  it('hands the feed to a new sender once the holder has been silent for the takeover time', () => {
    let now = 0;
    const sink = fakeSink();
    const gate = new FeedGate({ sink, takeoverAfterMs: 5000, now: () => now });
    const revoked: string[] = [];
    const stuck = gate.claim('http', 'half-open', (why) => revoked.push(why))!;
    stuck.feed(Uint8Array.of(1));
    now = 4999;
    expect(gate.claim('http', 'reconnect')).toBeUndefined();
    now = 5000;
    const fresh = gate.claim('http', 'reconnect')!;
    expect(fresh).toBeDefined();
    expect(revoked).toEqual(['http feed from reconnect took over after 5000 ms of silence']);
    expect(sink.ends).toBe(1); // the old run is flushed before the new feed's bytes
    stuck.feed(Uint8Array.of(66));
    stuck.end(); // the old connection closing later does not end the new feed
    fresh.feed(Uint8Array.of(2));
    expect(sink.bytes).toEqual([1, 2]);
    expect(sink.ends).toBe(1);
    expect(gate.status()).toMatchObject({ active: { peer: 'reconnect' }, takeovers: 1 });
  });

  it('a holder waiting on backpressure is not silent', () => {
    let now = 0;
    const gate = new FeedGate({ sink: fakeSink(), takeoverAfterMs: 5000, now: () => now });
    const lease = gate.claim('http', 'a')!;
    now = 4000;
    lease.touch();
    now = 8000;
    expect(gate.claim('http', 'b')).toBeUndefined();
  });

  it('StreamFeed (RTP, SRT relay) claims with its first bytes, counts refused chunks, and takes over when free', () => {
    const sink = fakeSink();
    const gate = new FeedGate({ sink, now: () => 0 });
    const http = gate.claim('http', 'pusher')!;
    const rtp = new StreamFeed(gate, 'rtp', () => 'ssrc 1');
    rtp.feed(Uint8Array.of(7));
    rtp.feed(Uint8Array.of(8));
    expect(rtp.active).toBe(false);
    expect(gate.status().refused.rtp).toBe(2);
    http.end();
    rtp.feed(Uint8Array.of(9));
    expect(rtp.active).toBe(true);
    expect(sink.bytes).toEqual([9]);
    rtp.end();
    expect(gate.status().active).toBeNull();
    expect(sink.ends).toBe(2);
  });
});
