import { z } from 'zod';

/**
 * DRM of an event (docs/drm.md). Absent = clear (the default). Set before the first init is
 * stored (PUT /api/events/{event}/drm); once an init exists it cannot change, because every
 * stored header and segment was packaged under it.
 */
export const DrmConfig = z
  .object({
    /** Common Encryption scheme: cenc (AES-CTR) or cbcs (AES-CBC 1:9 pattern). */
    scheme: z.enum(['cenc', 'cbcs']),
    /** New keys every N segments (key period floor(K/N)); absent or 0: one key for the event. */
    rotateEverySegments: z.number().int().min(0).max(1_000_000).optional(),
  })
  .strict();
export type DrmConfig = z.infer<typeof DrmConfig>;

/** Body of PUT /api/events/{event}/drm: the config, or `{"drm": null}` to go back to clear. */
export const DrmConfigRequest = z.object({ drm: DrmConfig.nullable() }).strict();
export type DrmConfigRequest = z.infer<typeof DrmConfigRequest>;

/** POST /drm/clearkey/{event}: the W3C ClearKey license request (EME §9.1.3). */
export const ClearKeyRequest = z.object({
  kids: z.array(z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'a KID is 16 bytes in base64url without padding (22 characters)')).min(1).max(32),
  type: z.enum(['temporary', 'persistent-license']).default('temporary'),
});
export type ClearKeyRequest = z.infer<typeof ClearKeyRequest>;
