/** `npm run docs:errors`: write docs/errors.md from the codes in contract/errors.ts. */
import { writeFileSync } from 'node:fs';
import { errorsMarkdown } from '../contract/errors-doc.ts';

writeFileSync(new URL('../docs/errors.md', import.meta.url), errorsMarkdown());
console.log('docs/errors.md written');
