/**
 * `npm run ttl -- <command>`: the operator TTL rules of a running Worker (docs/ttl-rules.md).
 *
 *   npm run ttl -- list
 *   npm run ttl -- put rules.json          (the whole set: {"rules": [...]}; refused whole if one rule is wrong)
 *   npm run ttl -- delete <rule id>
 *   npm run ttl -- explain <player url> [--status 404|410|503]
 *
 * Options: --url (default http://localhost:8787, the local pipeline), --token (default
 * $OPERATOR_TOKEN, else the local-development token of .dev.vars).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { url: { type: 'string' }, token: { type: 'string' }, status: { type: 'string' } },
});
const base = values.url ?? process.env.WORKER_URL ?? 'http://localhost:8787';
const token = values.token ?? process.env.OPERATOR_TOKEN ?? 'dev-operator-token';
const [command, arg] = positionals;

async function call(method: string, path: string, body?: string): Promise<void> {
  const res = await fetch(new URL(path, base), {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body,
  });
  const text = await res.text();
  console.log(res.ok ? JSON.stringify(JSON.parse(text), null, 2) : `${res.status}: ${text}`);
  if (!res.ok) process.exitCode = 1;
}

if (command === 'list') await call('GET', '/api/ttl/rules');
else if (command === 'put' && arg) await call('PUT', '/api/ttl/rules', readFileSync(arg, 'utf8'));
else if (command === 'delete' && arg) await call('DELETE', `/api/ttl/rules/${encodeURIComponent(arg)}`);
else if (command === 'explain' && arg) {
  const query = new URLSearchParams({ url: arg, ...(values.status ? { status: values.status } : {}) });
  await call('GET', `/api/ttl/explain?${query}`);
} else {
  console.error('usage: npm run ttl -- list | put <file.json> | delete <id> | explain <url> [--status 404|410|503]');
  process.exitCode = 2;
}
