import { z } from '@hono/zod-openapi';
import { requireCredential } from '../edge/credentials.ts';

/** Pieces every control-plane OpenAPI route declares the same way (orchestrator/api.ts, spoke-routes.ts). */
export const NO_STORE = { 'cache-control': 'no-store' };
export const security = [{ operator: [] }];
export const read = requireCredential('operator:read');
export const write = requireCredential('operator:write');

/** The one error body (edge/http-errors.ts). */
export const ErrorBody = z.object({ error: z.object({ code: z.string(), id: z.number(), message: z.string() }) });

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});

/** What every operator route may answer besides its own outcomes. */
export const errors = {
  400: json(ErrorBody, 'the request breaks its schema; the message names the field'),
  401: json(ErrorBody, 'no bearer token'),
  403: json(ErrorBody, 'the token is not valid for this route'),
};
