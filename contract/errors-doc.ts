import { errorCodes } from './errors.ts';

/** docs/errors.md, made from the `doc` of every code in contract/errors.ts (`npm run docs:errors`). */
export function errorsMarkdown(): string {
  const rows = Object.entries(errorCodes).map(([code, e]) => `| ${e.id} | \`${code}\` | ${e.status} | ${e.doc} |`);
  return `# Error vocabulary

<!-- Generated from contract/errors.ts by \`npm run docs:errors\`; edit the \`doc\` there, not here. -->

Defined once in \`contract/errors.ts\`; \`edge/http-errors.ts\` is the only place an error becomes an
HTTP response. Numbers are stable and never reused. Every error response is:

\`\`\`json
{"error": {"code": "INIT_MISSING", "id": 2004, "message": "no init.mp4 stored for event …"}}
\`\`\`

| id | code | status | meaning |
| --- | --- | --- | --- |
${rows.join('\n')}
`;
}
