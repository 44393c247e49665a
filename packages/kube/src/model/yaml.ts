import { parseAllDocuments, stringify } from 'yaml';
import { isRecord, type KubeObject } from './object.ts';

const LEADING_KEYS: Record<string, string[]> = {
  '': ['apiVersion', 'kind', 'metadata'],
  metadata: ['name', 'namespace'],
};

/** Keys sorted the way kubectl prints them (alphabetically), with identity keys first where people look for them. */
export function canonical(value: unknown, parentKey = ''): unknown {
  if (Array.isArray(value)) return value.map((item) => canonical(item));
  if (!isRecord(value)) return value;
  const leading = parentKey === '' || parentKey === 'metadata' ? (LEADING_KEYS[parentKey] ?? []) : [];
  const keys = Object.keys(value).filter((key) => value[key] !== undefined);
  keys.sort((a, b) => {
    const ia = leading.indexOf(a);
    const ib = leading.indexOf(b);
    if (ia >= 0 || ib >= 0) return (ia < 0 ? Infinity : ia) - (ib < 0 ? Infinity : ib);
    return a < b ? -1 : a > b ? 1 : 0;
  });
  const out: Record<string, unknown> = {};
  // Data maps (labels, ConfigMap data, …) are sorted too; their nested values keep their own order rules.
  for (const key of keys) out[key] = canonical(value[key], parentKey === '' && key === 'metadata' ? 'metadata' : 'nested');
  return out;
}

/** Characters a YAML stream may not carry raw (YAML 1.2 c-printable excludes them) and the writer would not escape. */
const UNPRINTABLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u0084\u0086-\u009f\ufffe\uffff]/;

function unprintable(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') {
    const match = UNPRINTABLE.exec(value);
    return match ? `${path} holds U+${match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at offset ${match.index}` : undefined;
  }
  if (Array.isArray(value)) return value.map((v, i) => unprintable(v, `${path}[${i}]`)).find(Boolean);
  if (isRecord(value)) return Object.entries(value).map(([k, v]) => unprintable(v, path ? `${path}.${k}` : k)).find(Boolean);
  return undefined;
}

/**
 * One YAML stream, documents in the given order. YAML 1.1 quoting so that strings such as "yes", "on"
 * or "0777" stay strings for Kubernetes's YAML 1.1 parser; long text becomes a literal block.
 */
export function toYamlStream(objects: KubeObject[], header?: string): string {
  const docs = objects.map((object) => {
    // Written raw, such a character makes the file unreadable to kubectl, Flux and the API server.
    const problem = unprintable(object, '');
    if (problem) throw new Error(`${object.kind} ${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name}: ${problem}, which YAML cannot carry; escape it at the source`);
    return stringify(canonical(object), { version: '1.1', lineWidth: 0, blockQuote: 'literal', aliasDuplicateObjects: false });
  });
  const head = header ? `${header.split('\n').map((line) => `# ${line}`.trimEnd()).join('\n')}\n` : '';
  return head + docs.map((doc) => `---\n${doc}`).join('');
}

/** Reads a YAML stream back into objects (empty documents skipped); errors name the file. */
export function parseYamlStream(text: string, file: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text, { version: '1.1' })) {
    if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    if (!isRecord(value) || typeof value.kind !== 'string' || typeof value.apiVersion !== 'string' || !isRecord(value.metadata)) {
      throw new Error(`${file}: a document is not a Kubernetes object (apiVersion, kind and metadata are required)`);
    }
    objects.push(value as KubeObject);
  }
  return objects;
}
