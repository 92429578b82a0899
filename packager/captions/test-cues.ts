import type { Cue } from './cue.ts';

/** The cues both caption test files use: around segment K of today, with ones that span its edges. */
export const D = 2000;
// A K of today (2026): media time is about 490,000 hours since the epoch.
export const K = 882_141_000;
export const T0 = K * D;
export const cues: Cue[] = [
  { startMs: T0 - 500, endMs: T0 + 300, text: 'spans the start' },
  { startMs: T0 + 500, endMs: T0 + 1500, text: 'Fish & <chips>\nsecond line' },
  { startMs: T0 + 1800, endMs: T0 + 2600, text: 'spans the end' },
  { startMs: T0 + 2600, endMs: T0 + 3000, text: 'next segment only' },
];
