import { z } from 'zod';

/**
 * Text forms of the RTP contribution settings (flags and environment variables), validated with
 * zod so a typo fails at start-up with a message instead of a silent misconfiguration.
 */
const Port = z.number({ message: 'expected a port number' }).int().min(1).max(65535);

/** `5004,5006`: the UDP ports of path 1 and path 2 (the bridge binds both). */
export const RtpPortPair = z
  .string()
  .regex(/^[^,]+,[^,]+$/, { message: 'expected two ports, path 1 and path 2 (e.g. 5004,5006)' })
  .transform((text) => text.split(',').map((p) => (/^\s*\d+\s*$/.test(p) ? Number(p) : Number.NaN)))
  .pipe(z.tuple([Port, Port]))
  .refine(([a, b]) => a !== b, { message: 'the two paths need different ports' });
export type RtpPortPair = z.infer<typeof RtpPortPair>;

const Destination = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^:,\s]+):\d+$/, { message: 'expected host:port' })
  .transform((text) => {
    const at = text.lastIndexOf(':');
    return { host: text.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(text.slice(at + 1)) };
  })
  .pipe(z.object({ host: z.string().min(1), port: Port }));

/** `127.0.0.1:5004,127.0.0.1:5006`: where the sender sends path 1 and path 2. */
export const RtpDestinations = z
  .string()
  .regex(/^[^,]+,[^,]+$/, { message: 'expected host:port1,host:port2' })
  .transform((text) => text.split(','))
  .pipe(z.tuple([Destination, Destination]));
export type RtpDestinations = z.infer<typeof RtpDestinations>;

/** `5:10`: an outage from 5 s to 10 s after the first packet. */
export const OutageSeconds = z
  .string()
  .regex(/^\d+(\.\d+)?:\d+(\.\d+)?$/, { message: 'expected fromSec:toSec' })
  .transform((text) => {
    const [from, to] = text.split(':').map(Number);
    return { fromMs: from * 1000, toMs: to * 1000 };
  })
  .refine((w) => w.toMs > w.fromMs, { message: 'the outage must end after it starts' });

export const DropProbability = z.coerce.number().min(0).max(0.5);
