/**
 * UTC per picture in H.264 SEI (docs/architecture.md "Carrying UTC per frame"): a
 * `user_data_unregistered` message (SEI payload type 5, ITU-T H.264 §D.1.7) in front of every
 * picture, for contribution encoders whose PTS is not UTC (it starts at 0, wraps, or follows the
 * encoder's own clock). The bridge maps the feed's PTS onto this UTC.
 *
 * Payload layout (25 bytes, all big-endian):
 *
 * | bytes | field |
 * | --- | --- |
 * | 0–15 | `uuid_iso_iec_11578`: UTC_SEI_UUID |
 * | 16–23 | UTC of the picture in whole milliseconds since the Unix epoch (unsigned 64-bit) |
 * | 24 | the 90 kHz ticks past that millisecond, 0–89 (optional) |
 *
 * One millisecond is exactly 90 ticks of the MPEG-TS clock, so with byte 24 the picture's UTC is
 * exact to the tick (`ms·90 + byte24`), which is what makes an SEI feed number exactly like a PTS
 * feed of the same pictures. An encoder that knows only milliseconds sends 24 bytes; its pictures
 * are then placed to the millisecond.
 */
export const UTC_SEI_UUID = '0e37a7bf-ce2e-4d7c-96da-6549eb881ab6';

/** UTC_SEI_UUID as the 16 bytes that open the payload. */
export const UTC_SEI_UUID_BYTES: Uint8Array = Uint8Array.from(
  UTC_SEI_UUID.replaceAll('-', '')
    .match(/../g)!
    .map((h) => Number.parseInt(h, 16)),
);

/** SEI payload type of user_data_unregistered. */
export const USER_DATA_UNREGISTERED = 5;

/** The payload with the tick byte; 24 bytes (milliseconds only) is also accepted. */
export const UTC_SEI_PAYLOAD_BYTES = 25;
