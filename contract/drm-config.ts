import { z } from 'zod';

/**
 * DRM of an event (docs/drm.md). Absent = clear (the default). Set before the first init is
 * stored (PUT /api/events/{event}/drm); once an init exists it cannot change, because every
 * stored header and segment was packaged under it.
 */
/**
 * Where the event's content keys come from. `local` (the default): the development LocalKeyStore,
 * keys derived from a public seed. `cpix`: a key service that answers DASH-IF CPIX 2.3 requests
 * (POST, application/xml) at `url`; see docs/drm.md.
 */
export const KeySource = z.discriminatedUnion('provider', [
  z.object({ provider: z.literal('local') }).strict(),
  z
    .object({
      provider: z.literal('cpix'),
      url: z
        .string()
        .url()
        .refine((u) => /^https?:/.test(u), 'the key service URL is http: or https:'),
      /** Give up on a key service that has not answered after this long (the publish fails with 502). */
      timeoutMs: z.number().int().min(100).max(30_000).optional(),
    })
    .strict(),
]);
export type KeySource = z.infer<typeof KeySource>;

export const DrmConfig = z
  .object({
    /** Common Encryption scheme: cenc (AES-CTR) or cbcs (AES-CBC 1:9 pattern). */
    scheme: z.enum(['cenc', 'cbcs']),
    /** New keys every N segments (key period floor(K/N)); absent or 0: one key for the event. */
    rotateEverySegments: z.number().int().min(0).max(1_000_000).optional(),
    /**
     * cenc only: per-sample IV size. 16 (default): each segment is encrypted in one WebCrypto call.
     * 8: for old devices that refuse 16-byte IVs, at about half the encryption throughput.
     */
    cencIvSize: z.union([z.literal(8), z.literal(16)]).optional(),
    /** Absent: `{ provider: 'local' }` (development keys). */
    keys: KeySource.optional(),
  })
  .strict();
export type DrmConfig = z.infer<typeof DrmConfig>;

/** Body of PUT /api/events/{event}/drm: the config, or `{"drm": null}` to go back to clear. */
export const DrmConfigRequest = z.object({ drm: DrmConfig.nullable() }).strict();
export type DrmConfigRequest = z.infer<typeof DrmConfigRequest>;

/** POST /drm/clearkey/{event}: the W3C ClearKey license request (EME §9.1.3). */
export const ClearKeyRequest = z.object({
  kids: z
    .array(z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'a KID is 16 bytes in base64url without padding (22 characters)'))
    .min(1)
    .max(32),
  type: z.enum(['temporary', 'persistent-license']).default('temporary'),
});
export type ClearKeyRequest = z.infer<typeof ClearKeyRequest>;
