import { USER_DATA_UNREGISTERED, UTC_SEI_PAYLOAD_BYTES, UTC_SEI_UUID_BYTES } from '../contract/utc-sei.ts';
import { addEmulationPrevention, seiMessages } from './cea608/a53-sei.ts';

/**
 * The per-picture UTC SEI (contract/utc-sei.ts): written by the synthetic source, read by the
 * bridge. Times are 90 kHz ticks since the Unix epoch, the PTS clock, so nothing is rounded.
 */
const SEI_NAL = 0x06;
/** Later than any real clock (year 5138), and still exact in a double after ·90. */
const MAX_UTC_MS = 1e14;

/** One SEI NAL unit (no start code, emulation-prevented) carrying this picture's UTC. */
export function utcSeiNal(utcTicks: number): Uint8Array {
  if (!Number.isSafeInteger(utcTicks) || utcTicks < 0 || utcTicks / 90 > MAX_UTC_MS)
    throw new RangeError(`UTC ${utcTicks} ticks: a whole number of 90 kHz ticks since the epoch`);
  const payload = new Uint8Array(UTC_SEI_PAYLOAD_BYTES);
  payload.set(UTC_SEI_UUID_BYTES);
  const view = new DataView(payload.buffer);
  view.setBigUint64(16, BigInt(Math.floor(utcTicks / 90)));
  payload[24] = utcTicks % 90;
  // payloadSize 25 < 255: one size byte; then the RBSP stop bit.
  return Uint8Array.from([
    SEI_NAL,
    ...addEmulationPrevention([USER_DATA_UNREGISTERED, payload.length, ...payload, 0x80]),
  ]);
}

/**
 * The UTC (90 kHz ticks) of the first UTC message in one SEI NAL (header byte included), or
 * undefined when it has none: other SEI, another UUID, a payload too short, a tick byte out of
 * range or a time past MAX_UTC_MS are all ignored rather than trusted.
 */
export function utcOfSeiNal(nal: Uint8Array): number | undefined {
  if (nal.length < 2 || (nal[0] & 0x1f) !== SEI_NAL) return undefined;
  for (const { type, payload } of seiMessages(nal)) {
    if (type !== USER_DATA_UNREGISTERED || payload.length < 24) continue;
    if (UTC_SEI_UUID_BYTES.some((b, i) => payload[i] !== b)) continue;
    const ms = new DataView(payload.buffer, payload.byteOffset, payload.length).getBigUint64(16);
    if (ms > BigInt(MAX_UTC_MS)) continue;
    const sub = payload.length >= UTC_SEI_PAYLOAD_BYTES ? payload[24] : 0;
    if (sub >= 90) continue;
    return Number(ms) * 90 + sub;
  }
  return undefined;
}
