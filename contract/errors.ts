/**
 * One error vocabulary for the whole project. Every code has a stable number (never reused) and
 * the HTTP status it maps to; edge/http-errors.ts is the only place that turns one into a
 * response. Each code carries its documentation (`doc`, Markdown): docs/errors.md is generated
 * from it (`npm run docs:errors`) and a test fails when the two differ.
 */
export const errorCodes = {
  // 1xxx: the request itself
  ROUTE_NOT_FOUND: { id: 1000, status: 404, doc: 'no route for this method and path' },
  BAD_PATH: { id: 1001, status: 400, doc: 'a path part breaks its rule; the message names the part and the rule' },
  UNAUTHORIZED: { id: 1002, status: 401, doc: 'no `Authorization: Bearer …` (response has `www-authenticate`)' },
  FORBIDDEN: { id: 1003, status: 403, doc: 'the bearer token is wrong for this route' },
  PAYLOAD_TOO_LARGE: { id: 1004, status: 413, doc: 'body (declared or received) over the limit' },
  UNSUPPORTED_MEDIA_TYPE: { id: 1005, status: 415, doc: '`Content-Type` missing or not accepted' },
  BAD_HEADER: {
    id: 1006,
    status: 400,
    doc: 'a required header is missing or invalid (`x-track-meta`, `x-segment-defects`)',
  },
  BAD_BODY: {
    id: 1007,
    status: 400,
    doc: 'an operator API body is not valid JSON or breaks its schema; the message names the field',
  },
  METHOD_NOT_ALLOWED: { id: 1008, status: 405, doc: 'wrong method (response has `allow`)' },
  BAD_QUERY: {
    id: 1009,
    status: 400,
    doc: 'a query parameter is invalid (operator candidate fetch: `pipeline`, `region`)',
  },
  // 2xxx: media that cannot be accepted
  MEDIA_MALFORMED: {
    id: 2001,
    status: 400,
    doc: 'ISO-BMFF does not parse: a box or field runs past its box, a size is impossible, sample data lie outside the mdat, or a segment declares more than `MAX_SAMPLES_PER_SEGMENT` (contract/ingest.ts) samples; the message is `<box> at offset N: <reason>`',
  },
  MEDIA_NOT_INIT: { id: 2002, status: 400, doc: 'not a CMAF header (no `moov`, or carries media)' },
  MEDIA_NOT_SEGMENT: { id: 2003, status: 400, doc: 'not a media segment (an init, or no `moof`/`mdat`)' },
  INIT_MISSING: { id: 2004, status: 412, doc: 'segment before its init (per event, pipeline, track)' },
  INIT_CONFLICT: { id: 2005, status: 409, doc: 'init differs from the stored one for that pipeline and track' },
  MEDIA_UNSUPPORTED_CODEC: { id: 2006, status: 415, doc: 'handler or sample entry not supported' },
  // 3xxx: live-edge and storage answers
  EVENT_NOT_FOUND: { id: 3001, status: 404, doc: 'no such event (yet); `max-age=1`' },
  TRACK_NOT_FOUND: { id: 3002, status: 404, doc: 'no such track in the event; `max-age=1`' },
  SEGMENT_NOT_YET_AVAILABLE: { id: 3003, status: 404, doc: 'segment K not due yet; TTL expires just before it is due' },
  SEGMENT_GONE: { id: 3004, status: 410, doc: 'never produced and past its deadline, or outside the DVR window' },
  OVERLOADED: {
    id: 3005,
    status: 503,
    doc: 'origin shedding load (DVR requests first); `max-age=5`, `retry-after: 5`',
  },
  EVENT_ENDED: {
    id: 3006,
    status: 409,
    doc: 'a segment after the end of an ended event, or ending it again with another `lastK`',
  },
  CANDIDATE_NOT_FOUND: {
    id: 3007,
    status: 404,
    doc: 'operator candidate fetch: that pipeline (region) stored no such segment or init',
  },
  MASK_NOT_FOUND: { id: 3008, status: 404, doc: 'no mask with that id' },
  REGION_NOT_APPLIED: {
    id: 3009,
    status: 502,
    doc: "a control that must hold in every region (the event's DRM) was accepted by the home region but not by another (`x-regions-applied` says which); setting the same value again is safe to retry",
  },
  MASK_CONFLICT: {
    id: 3010,
    status: 409,
    doc: "(reported per region in `x-regions-applied`) that region already has a different mask under the home region's mask id; it keeps its own",
  },
  SEGMENT_NUMBER_IMPLAUSIBLE: {
    id: 3011,
    status: 400,
    doc: 'ingest: segment K is before the DVR window or more than `maxSegmentsAhead` segments past the live edge (the message gives the accepted range); nothing is stored, pipeline health does not move',
  },
  SEGMENT_IMMUTABLE: {
    id: 3012,
    status: 409,
    doc: "ingest: different bytes for a (pipeline, track, K) whose stored copy players were already served as immutable under the event's current version; a correction needs a version bump first (docs/operations.md)",
  },
  ORIGIN_UNAVAILABLE: {
    id: 3013,
    status: 503,
    doc: 'player request: no origin region answered in time (each failed or missed its deadline); `retry-after: 1`, kept 1 s',
  },
  SPLICE_CONFLICT: {
    id: 3020,
    status: 409,
    doc: '`POST /api/events/{event}/splices`: a splice with that id is already stored with another time or duration (the answer names it); the same splice again is a 200',
  },
  PLAYLIST_BLOCK_TIMEOUT: {
    id: 3014,
    status: 503,
    doc: 'LL-HLS blocking playlist reload (`_HLS_msn`/`_HLS_part`): the segment or part asked for did not appear within three target durations (RFC 8216bis §6.2.5.2); kept 1 s',
  },
  // 4xxx: DRM
  DRM_LOCKED: {
    id: 4001,
    status: 409,
    doc: "`PUT /api/events/{event}/drm` after the event's first init was stored under another DRM setting",
  },
  KEY_NOT_FOUND: {
    id: 4002,
    status: 404,
    doc: 'ClearKey license request: a KID that is not a key of that event (current or neighbouring key periods)',
  },
  KEY_SERVICE_UNAVAILABLE: {
    id: 4003,
    status: 502,
    doc: 'ingest (or a license request) of an event whose keys come from a CPIX key service that did not answer in time, refused the connection, or answered an HTTP error; nothing is stored, the publisher retries',
  },
  KEY_SERVICE_BAD_ANSWER: {
    id: 4004,
    status: 502,
    doc: 'the same, but the key service answered something that is not a CPIX document with a 16-byte key for every KID asked; nothing is stored',
  },
  // 5xxx: edge configuration
  TTL_RULE_NOT_FOUND: { id: 5001, status: 404, doc: 'no TTL rule with that id (`DELETE /api/ttl/rules/{id}`)' },
  // 6xxx: personalised manifests (device profiles, manifest filter)
  MANIFEST_FILTER_INVALID: {
    id: 6001,
    status: 400,
    doc: "`?aws.manifestfilter=` breaks the MediaPackage v2 grammar: an unknown key, a key twice, a malformed pair, a range that runs backwards, a value outside the key's limits or not in its list, more than 1,024 characters, or the parameter given twice; the message names the part (docs/manifests.md)",
  },
  MANIFEST_FILTER_NOT_HERE: {
    id: 6002,
    status: 400,
    doc: '`?aws.manifestfilter=` on a segment, init or media playlist request: the filter applies to the MPD and the multivariant playlist only (as in MediaPackage)',
  },
  MANIFEST_FILTER_EMPTY: {
    id: 6003,
    status: 400,
    doc: 'the manifest filter leaves no track at all (one kind matching nothing, or only captions left, is a 200 with the rest)',
  },
  DEVICE_PROFILE_NOT_FOUND: {
    id: 6004,
    status: 404,
    doc: 'no stored device profile of that name (`DELETE /api/devices/{name}`; a built-in profile can only be overridden, and deleting the override restores it)',
  },
  NO_PLAYABLE_TRACKS: {
    id: 6005,
    status: 406,
    doc: 'the event has audio or video, but none the device profile can play (codec, profile/level, channels, DRM system or scheme); `max-age=1`',
  },
  // 7xxx: player tokens and keys (docs/player-tokens.md); the body's `reason` is the short code
  PLAYER_TOKEN_MISSING: {
    id: 7001,
    status: 403,
    doc: 'reason `missing`: the event requires a player token (or it is a license request) and none came, in `?token=` or the `player-token` cookie',
  },
  PLAYER_TOKEN_MALFORMED: {
    id: 7002,
    status: 403,
    doc: 'reason `malformed`: the player token does not parse (`st~exp~acl~…~hmac`, docs/player-tokens.md)',
  },
  PLAYER_TOKEN_BAD_SIGNATURE: {
    id: 7003,
    status: 403,
    doc: 'reason `bad-signature`: the HMAC is wrong, or `kid` names no active key (`PLAYER_TOKEN_KEY`, `PLAYER_TOKEN_KEY_PREVIOUS`)',
  },
  PLAYER_TOKEN_EXPIRED: { id: 7004, status: 403, doc: "reason `expired`: past the token's `exp`" },
  PLAYER_TOKEN_NOT_YET_VALID: { id: 7005, status: 403, doc: "reason `not-yet-valid`: before the token's `st`" },
  PLAYER_TOKEN_ACL: { id: 7006, status: 403, doc: "reason `acl`: no entry of the token's `acl` matches the path" },
  PLAYER_TOKEN_IP: {
    id: 7007,
    status: 403,
    doc: 'reason `ip`: the token is bound to another client address (`cf-connecting-ip`)',
  },
  DEV_KEYS_NOT_ALLOWED: {
    id: 7008,
    status: 403,
    doc: 'DRM with the development key store (published keys, docs/drm.md) in a deployment without `ALLOW_DEV_KEYS=true` (set only in `.dev.vars`): setting it, ingest and licenses are refused and nothing is stored; use a CPIX key service (`"keys": {"provider": "cpix", …}`)',
  },
  // 8xxx: the control plane (orchestrator hub, Control Room; docs/control-plane.md)
  EVENT_EXISTS: { id: 8001, status: 409, doc: '`POST /api/events` with the id of an event that already exists' },
  EVENT_RUNNING: {
    id: 8002,
    status: 409,
    doc: '`DELETE /api/events/{event}` while pipelines of the event should be running: stop or end it first',
  },
  EVENT_NOT_CREATED: {
    id: 8003,
    status: 404,
    doc: 'ingest or a player request for an event the hub never created (`POST /api/events`); nothing is stored and no origin object is created; `max-age=1`',
  },
  PROVISIONER_FAILED: {
    id: 8004,
    status: 502,
    doc: 'the provisioner (local agent or Cloudflare Containers) refused or did not answer a start or stop; the audit timeline has the details',
  },
  THUMBNAIL_NOT_FOUND: {
    id: 8010,
    status: 404,
    doc: "no thumbnail from this pipeline's bridge since the hub started (bridges send one over the hub's spoke WebSocket)",
  },
  WEBSOCKET_REQUIRED: {
    id: 8011,
    status: 426,
    doc: '`GET /api/hub/spoke` or `/api/hub/watch` without `Upgrade: websocket`',
  },
  // 9xxx: bugs (never expected; logged with details, answered without them)
  INTERNAL: { id: 9000, status: 500, doc: 'a bug: logged with details, answered without them' },
} as const satisfies Record<string, { id: number; status: number; doc: string }>;

export type ErrorCode = keyof typeof errorCodes;

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Extra response headers (e.g. Cache-Control for a 404 that expires when the segment is due). */
  readonly headers: Record<string, string>;
  /** Extra fields of the error body (e.g. a player token refusal's `reason`). */
  readonly details: Record<string, string>;
  constructor(
    code: ErrorCode,
    message: string,
    headers: Record<string, string> = {},
    details: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.headers = headers;
    this.details = details;
  }
  get status(): number {
    return errorCodes[this.code].status;
  }
  get id(): number {
    return errorCodes[this.code].id;
  }
}
