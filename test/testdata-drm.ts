/**
 * The DRM material of testdata/ (testdata/README.md, "Keys"): the content keys come from the CPIX
 * answer `testdata/drm/cpix-answer.xml`, so the golden encrypted segments, the manifests that
 * signal them and the CPIX test all use one documented set. Node only (reads the file).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../contract/errors.ts';
import { parseCpix } from '../packager/drm/cpix.ts';
import { type ContentKey, fromHex } from '../packager/drm/keys.ts';

export const CPIX_ANSWER_FILE = join(import.meta.dirname, '..', 'testdata', 'drm', 'cpix-answer.xml');

/** The CPIX answer document's text. */
export function cpixAnswerText(): string {
  return readFileSync(CPIX_ANSWER_FILE, 'utf8');
}

/** The key of (kind, key period) in the CPIX answer. */
export function testdataKey(kind: 'video' | 'audio', period = 0): ContentKey {
  const doc = parseCpix(cpixAnswerText(), (m) => new AppError('BAD_BODY', m));
  const found = doc.keys.find((k) => k.trackType === kind.toUpperCase() && k.periodIndex === period);
  if (!found?.key) throw new Error(`testdata/drm/cpix-answer.xml has no ${kind} key for period ${period}`);
  return { kid: found.kid, key: found.key };
}

/** cenc: the 8 bytes every segment's 16-byte IVs start with (the rest counts blocks; docs/drm.md). */
export const CENC_IV = fromHex('0123456789abcdef');
/** cbcs: the constant IV written in tenc. */
export const CBCS_IV = fromHex('00112233445566778899aabbccddeeff');
