import type { z } from 'zod';
import { AppError } from '../contract/errors.ts';
import { readBodyLimited } from './read-body.ts';

const MAX_JSON_BYTES = 64 * 1024;

/**
 * Read and validate a JSON request body with its zod schema. An empty body counts as `{}` (so
 * `POST …/version` needs none); anything else must be `application/json`. Every failure is a
 * 4xx that names the field, raised before anything is changed.
 */
export async function readJson<T>(req: Request, schema: z.ZodType<T>): Promise<T> {
  const bytes = await readBodyLimited(req, MAX_JSON_BYTES, 'JSON body');
  let json: unknown = {};
  if (bytes.byteLength > 0) {
    const type = req.headers.get('content-type')?.split(';')[0].trim().toLowerCase();
    if (type !== 'application/json')
      throw new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        `send the body as Content-Type application/json (got ${type ? `"${type}"` : 'none'})`,
      );
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw new AppError('BAD_BODY', 'the body is not valid JSON');
    }
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new AppError(
      'BAD_BODY',
      parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '),
    );
  }
  return parsed.data;
}
