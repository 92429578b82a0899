import { describe, expect, it } from 'vitest';
import { expectedPublishMs } from '../contract/epoch.ts';
import { defaultEventConfig as config } from '../contract/event-config.ts';
import { pipelineStatus, recordSegment } from './pipeline-health.ts';

const D = config.segmentDurationMs;
const due = (k: number) => expectedPublishMs(k, D, config.pipelineDelayMs);
const k = 885_000_000;

describe('pipeline health', () => {
  it('counts segments and defects, and measures lateness at the newest K only', () => {
    let h = recordSegment(undefined, 'B', k, [], due(k) + 100, config);
    h = recordSegment(h, 'B', k + 1, ['short'], due(k + 1) + 1500, config);
    h = recordSegment(h, 'B', k, ['short', 'tfdt-mismatch'], due(k + 1) + 1600, config);
    expect(h).toMatchObject({
      lastK: k + 1,
      latenessMs: 1500,
      lastDefective: true,
      segments: 3,
      defective: 2,
      defects: { short: 2, 'tfdt-mismatch': 1 },
    });
  });

  it('ignores a K further past the live edge than ingest accepts', () => {
    const h = recordSegment(undefined, 'A', k, [], due(k), config);
    expect(recordSegment(h, 'A', k + 1000, [], due(k) + 10, config)).toBe(h);
    expect(recordSegment(undefined, 'A', k + 1000, [], due(k), config)).toBeUndefined();
    // The live edge at due(k) is k + 1; up to maxSegmentsAhead past it still counts.
    expect(recordSegment(h, 'A', k + 1 + config.maxSegmentsAhead, [], due(k), config)?.lastK).toBe(
      k + 1 + config.maxSegmentsAhead,
    );
  });

  it('turns down when the next segment is more than D overdue', () => {
    const h = recordSegment(undefined, 'A', k, [], due(k), config)!;
    expect(pipelineStatus(h, due(k) + 10, config, false)).toBe('ok');
    expect(pipelineStatus(h, due(k + 1) + D + 1, config, false)).toBe('down');
    expect(pipelineStatus(h, due(k) + 10, config, true)).toBe('masked');
    expect(
      pipelineStatus(recordSegment(h, 'A', k + 1, [], due(k + 1) + D, config)!, due(k + 1) + D, config, false),
    ).toBe('late');
    expect(
      pipelineStatus(recordSegment(h, 'A', k + 1, ['short'], due(k + 1), config)!, due(k + 1), config, false),
    ).toBe('defective');
  });
});
