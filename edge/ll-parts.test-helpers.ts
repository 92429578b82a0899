/**
 * What the low-latency worker tests (ll-hls.worker.test.ts, ll-dash.worker.test.ts) share: a
 * segment of the fixture cut into parts on the epoch grid as the bridge cuts them, and PUTs of
 * parts and segments to the Worker. Not a test file: vitest collects `*.test.ts` only.
 */
import { inject } from 'vitest';
import { defaultEventConfig } from '../contract/event-config.ts';
import { ingestPut } from '../test/ingest-client.ts';
import { type Media, partsFor } from '../test/media.ts';

export const url = inject('workerUrl');
export const { segmentDurationMs: D } = defaultEventConfig;
/** Default part duration 0.5 s: four parts of a 2 s segment. */
export const N = 4;

/** The error code of a refusal's JSON body. */
export const codeOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

/** Segment K of `media` cut into its N parts on the epoch grid, as the bridge cuts them. */
export const partsOf = (media: Media, k: number): Uint8Array[] => partsFor(media, k, D, N);

/** PUT `bytes` at `/ingest/{event}/{path}` with the development token; its status. */
export const put = async (event: string, path: string, bytes: Uint8Array) =>
  (await ingestPut(url, `${event}/${path}`, bytes)).status;
