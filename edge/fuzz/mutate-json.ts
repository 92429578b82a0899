import { mutateMedia, type Mutation } from './mutate-media.ts';
import type { Rng } from './rng.ts';

const deep = (n: number): unknown => (n === 0 ? 0 : [deep(n - 1)]);

const VALUES: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  Number.MAX_SAFE_INTEGER,
  2 ** 53 + 2,
  1e308,
  -1e308,
  '',
  'A',
  'B',
  'not-an-id',
  '2030-01-01T00:00:00Z',
  'x'.repeat(5000),
  [],
  {},
  ['A', 'A'],
  { scheme: 'cbcs' },
  deep(64),
];

/**
 * Mutate an operator or captions JSON body: a value somewhere in it replaced (wrong type, out of
 * range, huge, deep), a key dropped, an unknown key added, the whole body replaced by a primitive;
 * a quarter of the time the serialised text is damaged on top (truncated, bits flipped).
 */
export function mutateJson(rng: Rng, value: unknown): Mutation {
  let body: unknown = structuredClone(value);
  const ops: string[] = [];
  for (let i = rng.range(1, 3); i > 0; i--) {
    const paths = pathsOf(body);
    const path = rng.pick(paths);
    const what = rng.int(5);
    if (what <= 1 || path.length === 0) {
      const v = structuredClone(rng.pick(VALUES));
      body = setAt(body, path, v);
      ops.push(`${show(path)} := ${JSON.stringify(v)?.slice(0, 30)}`);
    } else if (what === 2) {
      body = deleteAt(body, path);
      ops.push(`delete ${show(path)}`);
    } else if (what === 3) {
      const parent = path.slice(0, -1);
      const key = rng.pick(['extra', '__proto__', 'constructor', 'toK', 'lastK', 'drm']);
      body = setAt(body, [...parent, key], structuredClone(rng.pick(VALUES)));
      ops.push(`add a key under ${show(parent)}`);
    } else {
      body = structuredClone(rng.pick(VALUES));
      ops.push(`body := ${JSON.stringify(body)?.slice(0, 30)}`);
    }
  }
  const bytes = new TextEncoder().encode(JSON.stringify(body) ?? '');
  if (!rng.chance(0.25)) return { bytes, ops };
  const damaged = mutateMedia(rng, bytes, []);
  return { bytes: damaged.bytes, ops: [...ops, ...damaged.ops] };
}

type Path = (string | number)[];

function pathsOf(value: unknown, path: Path = [], out: Path[] = []): Path[] {
  out.push(path);
  if (out.length > 200) return out;
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...path, i], out));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) pathsOf(v, [...path, k], out);
  return out;
}

function setAt(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const container: any = root && typeof root === 'object' ? root : {};
  // Own properties only: '__proto__' and 'constructor' are keys of the body here, never the prototype.
  const current = Object.hasOwn(container, head) ? container[head] : undefined;
  Object.defineProperty(container, head, {
    value: setAt(current, rest, value),
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return container;
}

function deleteAt(root: unknown, path: Path): unknown {
  if (path.length === 0) return undefined;
  const parent: any = path.slice(0, -1).reduce((v: any, k) => (v && Object.hasOwn(v, k) ? v[k] : undefined), root);
  const key = path[path.length - 1];
  if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
  else if (parent && typeof parent === 'object') delete parent[key];
  return root;
}

const show = (path: Path) => (path.length ? path.join('.') : '(body)');
