import { type Readable, Transform } from 'node:stream';
import { z } from 'zod';
import { type BreakSchedule, DEMO_BREAKS, TsScte35Inserter } from './ts-scte35-inserter.ts';

/**
 * The synthetic source's ad breaks (`--scte35 SECONDS`, `--scte35-duration SECONDS`): a break of
 * the duration every period, at whole multiples of the period in UTC; `--scte35 0` sends none.
 */
export const Scte35Flags = z
  .object({
    scte35: z.coerce
      .number()
      .int()
      .min(0)
      .max(86_400)
      .refine((s) => s === 0 || s >= 10, 'seconds between breaks: 0 (off) or at least 10'),
    'scte35-duration': z.coerce.number().int().min(1).max(3600),
  })
  .refine((f) => f.scte35 === 0 || f['scte35-duration'] < f.scte35, {
    message: 'a break must be shorter than the time between breaks',
    path: ['scte35-duration'],
  });

/** The schedule the flags ask for, or undefined for none. */
export function breakSchedule(flags: z.infer<typeof Scte35Flags>): BreakSchedule | undefined {
  if (flags.scte35 === 0) return undefined;
  return { ...DEMO_BREAKS, periodMs: flags.scte35 * 1000, durationMs: flags['scte35-duration'] * 1000 };
}

/**
 * The feed with SCTE-35 added (ts-scte35-inserter.ts), or the feed itself without a schedule.
 * With UTC in SEI the PTS starts at `ptsStartMs` at T0, not at UTC: splice times follow the PTS.
 */
export function withScte35(
  feed: Readable,
  schedule: BreakSchedule | undefined,
  source: { t0: number; utcCarrier?: string; ptsStartMs?: number },
): Readable {
  if (!schedule) return feed;
  const ptsOffsetTicks = source.utcCarrier === 'sei' ? (source.ptsStartMs ?? 0) * 90 - source.t0 * 90_000 : 0;
  const inserter = new TsScte35Inserter({ schedule, ptsOffsetTicks });
  return feed.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        done(null, Buffer.from(inserter.push(chunk)));
      },
    }),
  );
}
