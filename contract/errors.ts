/**
 * One error vocabulary for the whole project. Every code has a stable number (never reused) and
 * the HTTP status it maps to; edge/http-errors.ts is the only place that turns one into a
 * response. docs/errors.md lists them for people searching logs.
 */
export const errorCodes = {
  // 1xxx: the request itself
  ROUTE_NOT_FOUND: { id: 1000, status: 404 },
  BAD_PATH: { id: 1001, status: 400 },
  UNAUTHORIZED: { id: 1002, status: 401 },
  FORBIDDEN: { id: 1003, status: 403 },
  PAYLOAD_TOO_LARGE: { id: 1004, status: 413 },
  UNSUPPORTED_MEDIA_TYPE: { id: 1005, status: 415 },
  BAD_HEADER: { id: 1006, status: 400 },
  BAD_BODY: { id: 1007, status: 400 },
  METHOD_NOT_ALLOWED: { id: 1008, status: 405 },
  BAD_QUERY: { id: 1009, status: 400 },
  // 2xxx: media that cannot be accepted
  MEDIA_MALFORMED: { id: 2001, status: 400 },
  MEDIA_NOT_INIT: { id: 2002, status: 400 },
  MEDIA_NOT_SEGMENT: { id: 2003, status: 400 },
  INIT_MISSING: { id: 2004, status: 412 },
  INIT_CONFLICT: { id: 2005, status: 409 },
  MEDIA_UNSUPPORTED_CODEC: { id: 2006, status: 415 },
  // 3xxx: live-edge and storage answers
  EVENT_NOT_FOUND: { id: 3001, status: 404 },
  TRACK_NOT_FOUND: { id: 3002, status: 404 },
  SEGMENT_NOT_YET_AVAILABLE: { id: 3003, status: 404 },
  SEGMENT_GONE: { id: 3004, status: 410 },
  OVERLOADED: { id: 3005, status: 503 },
  EVENT_ENDED: { id: 3006, status: 409 },
  CANDIDATE_NOT_FOUND: { id: 3007, status: 404 },
  MASK_NOT_FOUND: { id: 3008, status: 404 },
  /** A control that must hold in every region (DRM) was not accepted by all of them. */
  REGION_NOT_APPLIED: { id: 3009, status: 502 },
  /** A mask id that another region already uses for a different mask. */
  MASK_CONFLICT: { id: 3010, status: 409 },
  // 4xxx: DRM
  DRM_LOCKED: { id: 4001, status: 409 },
  KEY_NOT_FOUND: { id: 4002, status: 404 },
  /** The event's key service did not answer, or answered an HTTP error (nothing is stored). */
  KEY_SERVICE_UNAVAILABLE: { id: 4003, status: 502 },
  /** The event's key service answered something that is not a usable CPIX document. */
  KEY_SERVICE_BAD_ANSWER: { id: 4004, status: 502 },
  // 9xxx: bugs (never expected; logged with details, answered without them)
  INTERNAL: { id: 9000, status: 500 },
} as const satisfies Record<string, { id: number; status: number }>;

export type ErrorCode = keyof typeof errorCodes;

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Extra response headers (e.g. Cache-Control for a 404 that expires when the segment is due). */
  readonly headers: Record<string, string>;
  constructor(code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.headers = headers;
  }
  get status(): number {
    return errorCodes[this.code].status;
  }
  get id(): number {
    return errorCodes[this.code].id;
  }
}
