import { documentKind } from '../validate/schema.ts';

/**
 * Talos's strategic-merge patches (pkg/machinery/config/configpatcher, merge/merge.go):
 *  - documents are matched by kind and name; a patch document with no match is appended;
 *  - maps merge recursively; lists append, except the replace-lists and the lists merged by a key;
 *  - a scalar replaces the old value unless it is a zero value (empty string, 0); a boolean always replaces;
 *  - `$patch: delete` removes a field, a subtree or a whole (non-v1alpha1) document;
 *  - one patch may touch a document only once.
 */

type Doc = Record<string, unknown>;

export class PatchError extends Error {}

/**
 * Fields tagged `merge:"replace"` in Talos's types (v1alpha1 from its root, typed documents as `Kind:field`);
 * the patch test checks the result against Talos's own patcher.
 */
const REPLACED = new Set([
  'cluster.network.podSubnets',
  'cluster.network.serviceSubnets',
  'cluster.apiServer.auditPolicy',
  'NetworkRuleConfig:ingress',
  'NetworkRuleConfig:portSelector.ports',
]);

const child = (path: string, key: string) => (path === '' || path.endsWith(':') ? `${path}${key}` : `${path}.${key}`);

/** Lists whose items merge when a key matches. */
const MERGED_BY = new Map<string, (item: Doc) => unknown>([
  ['machine.network.interfaces', (i) => i.interface ?? JSON.stringify(i.deviceSelector ?? null)],
  ['machine.network.interfaces.vlans', (i) => i.vlanId],
  ['cluster.apiServer.admissionControl', (i) => i.name],
  ['configFiles', (i) => i.mountPath],
]);

const isMap = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDelete = (v: unknown) => isMap(v) && v.$patch === 'delete';

function clean(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clean);
  if (isMap(value)) return Object.fromEntries(Object.entries(value).filter(([k]) => k !== '$patch').map(([k, v]) => [k, clean(v)]));
  return value;
}

function isZero(value: unknown): boolean {
  return value === '' || value === 0 || value === null;
}

function mergeLists(path: string, left: unknown[], right: unknown[]): unknown[] {
  if (REPLACED.has(path)) return right.map(clean);
  const keyOf = MERGED_BY.get(path) ?? MERGED_BY.get(path.split(/[.:]/).pop()!);
  if (!keyOf) return [...left, ...right.map(clean)];
  const out = [...left];
  for (const item of right) {
    const index = isMap(item) ? out.findIndex((existing) => isMap(existing) && keyOf(existing) === keyOf(item)) : -1;
    if (index === -1) out.push(clean(item));
    else if (isDelete(item)) out.splice(index, 1);
    else out[index] = mergeMaps(path, out[index] as Doc, item as Doc);
  }
  return out;
}

function mergeMaps(path: string, left: Doc, right: Doc): Doc {
  const out: Doc = { ...left };
  for (const [key, value] of Object.entries(right)) {
    if (key === '$patch') continue;
    const at = child(path, key);
    if (isDelete(value)) {
      delete out[key];
    } else if (REPLACED.has(at)) {
      out[key] = clean(value);
    } else if (isMap(value) && isMap(out[key])) {
      out[key] = mergeMaps(at, out[key] as Doc, value);
    } else if (Array.isArray(value) && Array.isArray(out[key])) {
      out[key] = mergeLists(at, out[key] as unknown[], value);
    } else if (typeof value === 'boolean' || !isZero(value) || !(key in out)) {
      out[key] = clean(value);
    }
  }
  return out;
}

function identity(doc: Doc): string {
  return `${documentKind(doc)}${typeof doc.name === 'string' ? `/${doc.name}` : ''}`;
}

/** Applies one patch (one or more documents) to a node's documents, returning new documents. */
export function applyPatch(docs: Doc[], patch: Doc[]): Doc[] {
  let out = docs.map((d) => structuredClone(d));
  const touched = new Set<string>();
  for (const patchDoc of patch) {
    const kind = patchDoc.kind === undefined && patchDoc.apiVersion === undefined ? 'v1alpha1' : documentKind(patchDoc);
    const id = kind === 'v1alpha1' ? 'v1alpha1' : identity(patchDoc);
    if (touched.has(id)) throw new PatchError(`the patch changes ${id} twice; merge those parts into one document`);
    touched.add(id);
    const index = out.findIndex((d) => (kind === 'v1alpha1' ? documentKind(d) === 'v1alpha1' : identity(d) === id));
    if (isDelete(patchDoc)) {
      if (kind === 'v1alpha1') throw new PatchError('the v1alpha1 document cannot be deleted');
      if (index !== -1) out = out.filter((_, i) => i !== index);
      continue;
    }
    if (index === -1) {
      if (kind === 'v1alpha1') throw new PatchError('the config has no v1alpha1 document to patch');
      out.push(clean(patchDoc) as Doc);
    } else {
      out[index] = mergeMaps(kind === 'v1alpha1' ? '' : `${kind}:`, out[index]!, patchDoc);
    }
  }
  return out;
}
