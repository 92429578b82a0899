import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorsMarkdown } from './errors-doc.ts';
import { errorCodes } from './errors.ts';

describe('error vocabulary', () => {
  it('docs/errors.md is what contract/errors.ts generates (run `npm run docs:errors`)', () => {
    const onDisk = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    expect(onDisk).toBe(errorsMarkdown());
  });

  it('numbers are unique and every code is documented', () => {
    const ids = Object.values(errorCodes).map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [code, e] of Object.entries(errorCodes)) expect(e.doc.length, code).toBeGreaterThan(10);
  });
});
