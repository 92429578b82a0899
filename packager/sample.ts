/** A coded media sample as carried in a CMAF fragment. Times are in track timescale ticks. */
export interface Sample {
  /** Decode time, ticks. */
  dts: number;
  duration: number;
  /** ISO-BMFF sample_flags (sync bit, depends_on, …). */
  flags: number;
  /** Composition time offset (pts − dts), may be negative. */
  compositionOffset: number;
  data: Uint8Array;
}

/** sample_flags bit that marks a non-sync sample. */
const NON_SYNC = 0x00010000;
/** sample_flags for an I-frame sync sample: depends_on=2 (does not depend on others). */
export const SYNC_SAMPLE_FLAGS = 0x02000000;
/** sample_flags for a non-sync sample: depends_on=1, is_non_sync=1. */
export const NON_SYNC_SAMPLE_FLAGS = 0x01010000;

export function isSync(flags: number): boolean {
  return (flags & NON_SYNC) === 0;
}
