import { describe, expect, it } from 'vitest';
import { DEFAULT_FEED_TOKEN, DEFAULT_SRT_PASSPHRASE, loadBridgeConfig, publishTargets } from './config.ts';

describe('bridge configuration: publish targets', () => {
  it('cross-publishes to r1 and r2 at the ingest URL by default', () => {
    const config = loadBridgeConfig([], {});
    expect(publishTargets(config)).toEqual([
      { region: 'r1', url: 'http://127.0.0.1:8787' },
      { region: 'r2', url: 'http://127.0.0.1:8787' },
    ]);
  });

  it('takes a URL per region from --publish-to (flag over PUBLISH_TO)', () => {
    const config = loadBridgeConfig(['--publish-to', 'r2=http://10.0.0.2:8787/,r1'], {
      PUBLISH_TO: 'r9',
      INGEST_URL: 'http://127.0.0.1:9999',
    });
    expect(publishTargets(config)).toEqual([
      { region: 'r2', url: 'http://10.0.0.2:8787' },
      { region: 'r1', url: 'http://127.0.0.1:9999' },
    ]);
  });

  it('names the flag and the rule when the value is wrong', () => {
    expect(() => loadBridgeConfig(['--publish-to', 'r1,R2'], {})).toThrow(/--publish-to: comma-separated regions/);
    expect(() => loadBridgeConfig(['--publish-to', 'r1=not a url'], {})).toThrow(/--publish-to/);
    expect(() => loadBridgeConfig(['--publish-to', 'r1=http//x'], {})).toThrow(/valid URL/);
  });
});

describe('bridge configuration: CC1 captions', () => {
  it('is off unless a language is given, by flag or BRIDGE_CC1_LANGUAGE', () => {
    expect(loadBridgeConfig([], {}).cc1Language).toBeUndefined();
    expect(loadBridgeConfig(['--cc1-language', 'pt-BR'], {}).cc1Language).toBe('pt-BR');
    expect(loadBridgeConfig([], { BRIDGE_CC1_LANGUAGE: 'en' }).cc1Language).toBe('en');
    expect(() => loadBridgeConfig(['--cc1-language', 'english!'], {})).toThrow(
      /--cc1-language: language: a BCP-47 tag/,
    );
  });

  it("takes the event's pipelineDelayMs (for the cues' deadlines), 1500 by default like the event", () => {
    expect(loadBridgeConfig([], {}).pipelineDelayMs).toBe(1500);
    expect(loadBridgeConfig(['--pipeline-delay-ms', '3000'], {}).pipelineDelayMs).toBe(3000);
    expect(loadBridgeConfig([], { BRIDGE_PIPELINE_DELAY_MS: '0' }).pipelineDelayMs).toBe(0);
    expect(() => loadBridgeConfig(['--pipeline-delay-ms', '-1'], {})).toThrow(/--pipeline-delay-ms/);
  });
});

describe('bridge configuration: contribution credentials', () => {
  it('has local-dev defaults that the synthetic source sends too', () => {
    const config = loadBridgeConfig([], {});
    expect(config.feedToken).toBe(DEFAULT_FEED_TOKEN);
    expect(config.srtPassphrase).toBe(DEFAULT_SRT_PASSPHRASE);
    expect(config.srtPbkeylen).toBe(16);
    expect(String(config.rtpAllow)).toBe('127.0.0.1,::1');
    expect(config.rtpAllow.allows(0, '127.0.0.1', 1234)).toBe(true);
    expect(config.rtpAllow.allows(0, '192.0.2.1', 1234)).toBe(false);
  });

  it('reads flags over environment variables, and names the flag when a value is wrong', () => {
    const config = loadBridgeConfig(['--feed-token', 'venue-feed-secret', '--rtp-allow', 'path1=192.0.2.1:5000'], {
      BRIDGE_FEED_TOKEN: 'other-secret',
      BRIDGE_SRT_PASSPHRASE: 'a-long-passphrase',
      BRIDGE_SRT_PBKEYLEN: '32',
    });
    expect(config).toMatchObject({
      feedToken: 'venue-feed-secret',
      srtPassphrase: 'a-long-passphrase',
      srtPbkeylen: 32,
    });
    expect(config.rtpAllow.allows(0, '192.0.2.1', 5000)).toBe(true);
    expect(config.rtpAllow.allows(1, '192.0.2.1', 5000)).toBe(false);
    expect(() => loadBridgeConfig(['--feed-token', 'short'], {})).toThrow(/--feed-token/);
    expect(() => loadBridgeConfig(['--srt-passphrase', 'too-short'], {})).toThrow(/--srt-passphrase/);
    expect(() => loadBridgeConfig(['--srt-pbkeylen', '20'], {})).toThrow(/--srt-pbkeylen: must be 16, 24 or 32/);
    expect(() => loadBridgeConfig(['--rtp-allow', 'venue.example'], {})).toThrow(/--rtp-allow: .*IP address/);
  });
});
