import { isDeepStrictEqual } from 'node:util';

/**
 * Field ownership for server-side apply, reduced to what the engine's behaviour depends on: maps merge
 * key by key, lists and scalars are atomic leaves (like `x-kubernetes-list-type: atomic`). A path is a
 * list of keys from the object root.
 */
export type Path = string[];
type Json = Record<string, unknown>;

const isMap = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Fields that identify or are maintained by the server; nobody owns them. */
const SERVER_FIELDS = new Set(['apiVersion', 'kind', 'status', 'metadata.name', 'metadata.namespace', 'metadata.managedFields', 'metadata.resourceVersion', 'metadata.uid', 'metadata.generation', 'metadata.creationTimestamp']);

export const pathKey = (path: Path) => path.join('\u0000');
export const fromKey = (key: string): Path => key.split('\u0000');

/** Leaf paths of an applied configuration. */
export function leafPaths(value: unknown, prefix: Path = []): Path[] {
  if (SERVER_FIELDS.has(prefix.join('.'))) return [];
  if (!isMap(value) || (Object.keys(value).length === 0 && prefix.length > 0)) return prefix.length ? [prefix] : [];
  return Object.entries(value).flatMap(([key, child]) => (child === undefined ? [] : leafPaths(child, [...prefix, key])));
}

export function getPath(value: unknown, path: Path): unknown {
  let node = value;
  for (const key of path) node = isMap(node) ? node[key] : undefined;
  return node;
}

export function setPath(target: Json, path: Path, value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isMap(node[key])) node[key] = {};
    node = node[key] as Json;
  }
  node[path[path.length - 1]!] = structuredClone(value);
}

/** Removes the field and any map left empty above it. */
export function deletePath(target: Json, path: Path): void {
  const parents: Json[] = [];
  let node: unknown = target;
  for (const key of path.slice(0, -1)) {
    if (!isMap(node)) return;
    parents.push(node);
    node = node[key];
  }
  if (!isMap(node)) return;
  delete node[path[path.length - 1]!];
  for (let i = path.length - 2; i >= 0; i--) {
    const parent = parents[i]!;
    const child = parent[path[i]!];
    if (isMap(child) && Object.keys(child).length === 0 && path.slice(0, i + 1).join('.') !== 'metadata') delete parent[path[i]!];
    else break;
  }
}

export const sameValue = (a: unknown, b: unknown) => isDeepStrictEqual(a, b);

/** Whether two paths overlap (one is the other or inside it). */
export function overlaps(a: Path, b: Path): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `.spec.replicas`, the way the API server names fields in conflict messages. */
export const dotted = (path: Path) => `.${path.join('.')}`;

/** The managedFields `fieldsV1` shape: nested `f:<key>` maps. */
export function fieldsV1(paths: Path[]): Json {
  const root: Json = {};
  for (const path of paths) {
    let node = root;
    for (const key of path) {
      const k = `f:${key}`;
      if (!isMap(node[k])) node[k] = {};
      node = node[k] as Json;
    }
  }
  return root;
}

/** RFC 7386 merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return structuredClone(patch);
  const out: Json = isMap(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}
