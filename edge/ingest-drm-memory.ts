import type { IngestDrm } from '../origin/event-origin.ts';

/**
 * The packaging inputs of each (origin object, track, pipeline) this edge isolate has ingested
 * for: the event's DRM and, with DRM, the stored protected init. Once that pipeline's init of the
 * track is stored the answer is fixed for good (the origin locks the DRM at the first init and an
 * init never changes: 409 INIT_CONFLICT), so every later segment PUT skips the extra origin round
 * trip that asked for it. An answer given before the init exists is never kept: the DRM may still
 * be set. In memory only, bounded, rebuilt by one origin call after an isolate restart.
 */
const MAX_ENTRIES = 512;
const settled = new Map<string, IngestDrm>();

/** `lookup` asks the origin; its answer is kept once `initStored`. `key` names origin object, track and pipeline. */
export async function ingestDrmFor(key: string, lookup: () => Promise<IngestDrm>): Promise<IngestDrm> {
  const known = settled.get(key);
  if (known) return known;
  const answer = await lookup();
  if (answer.initStored) {
    settled.set(key, answer);
    // Oldest first in a Map: memory stays bounded however many events pass through.
    if (settled.size > MAX_ENTRIES) settled.delete(settled.keys().next().value!);
  }
  return answer;
}
