import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction, type ErrorObject } from 'ajv/dist/2020.js';

/**
 * Validation against Talos's own JSON Schema (vendored, see schema/README.md). Each document is checked
 * against the definition its `kind` names, which gives precise errors instead of the root oneOf's noise.
 */

export const SCHEMA_FILES: Record<string, string> = {
  'v1.13': fileURLToPath(new URL('../../schema/config.schema.v1.13.json', import.meta.url)),
};

interface SchemaFile {
  $id: string;
  oneOf: Array<{ $ref: string }>;
  $defs: Record<string, { properties?: { kind?: { enum?: string[] } } }>;
}

interface Validators {
  byKind: Map<string, ValidateFunction>;
  kinds: string[];
}

const cache = new Map<string, Validators>();

function validators(contract: string): Validators {
  const cached = cache.get(contract);
  if (cached) return cached;
  const file = SCHEMA_FILES[contract];
  if (!file) throw new Error(`no Talos schema for contract ${contract}`);
  const schema = JSON.parse(readFileSync(file, 'utf8')) as SchemaFile;
  // Talos's Endpoint (machine.logging destinations, cluster endpoints) wraps a URL and reads itself from a
  // string (v1alpha1 types: Endpoint.UnmarshalYAML); its generated schema shows the Go struct, an empty object.
  // Talos's docs and loader take `tcp://host:port/`, so the schema is corrected here, not in the vendored file.
  schema.$defs['v1alpha1.Endpoint'] = { type: 'string', description: 'a URL, as Talos parses it' } as never;
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema(schema);
  const byKind = new Map<string, ValidateFunction>();
  for (const { $ref } of schema.oneOf) {
    const name = $ref.replace('#/$defs/', '');
    const kind = schema.$defs[name]?.properties?.kind?.enum?.[0] ?? (name === 'v1alpha1.Config' ? 'v1alpha1' : undefined);
    if (kind) byKind.set(kind, ajv.getSchema(`${schema.$id}${$ref}`)!);
  }
  const result = { byKind, kinds: [...byKind.keys()].sort() };
  cache.set(contract, result);
  return result;
}

function describe(error: ErrorObject): string {
  const at = error.instancePath || '/';
  if (error.keyword === 'additionalProperties') return `${at}: unknown field "${String(error.params.additionalProperty)}"`;
  if (error.keyword === 'enum') return `${at}: must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
  if (error.keyword === 'required') return `${at}: missing required field "${String(error.params.missingProperty)}"`;
  return `${at}: ${error.message ?? error.keyword}`;
}

/** The document's kind as Talos names it (the v1alpha1 document has no kind). */
export function documentKind(doc: Record<string, unknown>): string {
  if (doc.kind === undefined && doc.version === 'v1alpha1') return 'v1alpha1';
  return typeof doc.kind === 'string' ? doc.kind : '(no kind)';
}

/** Problems for each document, as "document N (Kind[/name]): /path: message". */
export function schemaProblems(docs: Array<Record<string, unknown>>, contract: string): string[] {
  const { byKind, kinds } = validators(contract);
  const problems: string[] = [];
  docs.forEach((doc, index) => {
    const kind = documentKind(doc);
    const label = `document ${index + 1} (${kind}${typeof doc.name === 'string' ? `/${doc.name}` : ''})`;
    const validate = byKind.get(kind);
    if (!validate) {
      problems.push(`${label}: Talos ${contract} has no document kind "${kind}" (known: ${kinds.join(', ')})`);
      return;
    }
    if (!validate(doc)) {
      const seen = new Set<string>();
      for (const error of validate.errors ?? []) {
        const text = `${label}: ${describe(error)}`;
        if (!seen.has(text)) problems.push(text);
        seen.add(text);
      }
    }
  });
  return problems;
}

function pointerParts(pointer: string): string[] {
  return pointer.split('/').slice(1).map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/**
 * A number or boolean where Talos's type is a string (an unquoted `vm.max_map_count: 262144` in a patch), turned
 * into its text, as Talos's YAML decoder does when it reads the scalar into a string field. Changes the documents
 * in place; returns how many values it changed.
 */
export function coerceScalarsToStrings(docs: Array<Record<string, unknown>>, contract: string): number {
  const { byKind } = validators(contract);
  let changed = 0;
  for (const doc of docs) {
    const validate = byKind.get(documentKind(doc));
    if (!validate || validate(doc)) continue;
    for (const error of validate.errors ?? []) {
      const wanted = error.params.type as string | string[] | undefined;
      if (error.keyword !== 'type' || !(wanted === 'string' || (Array.isArray(wanted) && wanted.includes('string')))) continue;
      const parts = pointerParts(error.instancePath);
      const key = parts.pop();
      const parent = parts.reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], doc) as Record<string, unknown> | undefined;
      if (!parent || key === undefined) continue;
      const value = parent[key];
      if (typeof value === 'number' || typeof value === 'boolean') {
        parent[key] = String(value);
        changed++;
      }
    }
  }
  return changed;
}
