import { describe, expect, it } from 'vitest';
import { loadBridgeConfig, publishTargets } from './config.ts';

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
