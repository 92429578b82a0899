import { describe, expect, it } from 'vitest';
import type { IngestDrm } from '../origin/event-origin.ts';
import { ingestDrmFor } from './ingest-drm-memory.ts';

/** A lookup that answers from a list and counts how often the origin was asked. */
function origin(answers: IngestDrm[]) {
  const asked = { n: 0 };
  return { asked, lookup: async () => answers[Math.min(asked.n++, answers.length - 1)] };
}

describe('ingestDrmFor', () => {
  it('asks the origin once the init is stored, then never again', async () => {
    const cenc: IngestDrm = {
      drm: { scheme: 'cenc', rotateEverySegments: 0 },
      init: new Uint8Array([1, 2, 3]),
      initStored: true,
    };
    const o = origin([cenc]);
    const key = `ev-${crypto.randomUUID()}:r1/v1/A`;
    expect(await ingestDrmFor(key, o.lookup)).toEqual(cenc);
    expect(await ingestDrmFor(key, o.lookup)).toEqual(cenc);
    expect(o.asked.n).toBe(1);
  });

  it('keeps asking while no init is stored: the DRM may still be set', async () => {
    const before: IngestDrm = { drm: null, init: null, initStored: false };
    const after: IngestDrm = {
      drm: { scheme: 'cbcs', rotateEverySegments: 0 },
      init: new Uint8Array([9]),
      initStored: true,
    };
    const o = origin([before, after]);
    const key = `ev-${crypto.randomUUID()}:r1/v1/A`;
    expect(await ingestDrmFor(key, o.lookup)).toEqual(before);
    expect(await ingestDrmFor(key, o.lookup)).toEqual(after);
    expect(await ingestDrmFor(key, o.lookup)).toEqual(after);
    expect(o.asked.n).toBe(2);
  });

  it('keeps a settled clear answer too, per track and pipeline', async () => {
    const clear: IngestDrm = { drm: null, init: null, initStored: true };
    const o = origin([clear]);
    const event = `ev-${crypto.randomUUID()}:r1`;
    await ingestDrmFor(`${event}/v1/A`, o.lookup);
    await ingestDrmFor(`${event}/v1/A`, o.lookup);
    await ingestDrmFor(`${event}/v1/B`, o.lookup);
    expect(o.asked.n).toBe(2);
  });
});
