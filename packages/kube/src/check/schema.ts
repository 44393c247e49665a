import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { describe, gvkOf, isRecord, type KubeObject } from '../model/object.ts';
import { isBuiltinGroup } from '../model/order.ts';

/**
 * Schema checks for rendered objects. Types and required fields come from kubernetes-models (the
 * OpenAPI schemas compiled with ajv); unknown fields, which those schemas allow, are found with
 * @kubernetes/client-node's typed models: whatever its serializer drops is not part of the API, the way
 * `kubectl apply --validate=strict` would reject it.
 */

/** Third-party model packages for custom resources, by API group. */
const CUSTOM_MODELS: Record<string, string> = {
  'cilium.io': '@kubernetes-models/cilium',
};

interface ModelClass {
  new (data: unknown): { validate(): void };
}

async function modelFor(object: KubeObject): Promise<ModelClass | undefined> {
  const { group, version, kind } = gvkOf(object);
  const base = isBuiltinGroup(group) ? `kubernetes-models/${group ? `${group}/` : ''}${version}` : CUSTOM_MODELS[group] ? `${CUSTOM_MODELS[group]}/${group}/${version}` : undefined;
  if (!base) return undefined;
  try {
    const module = (await import(`${base}/${kind}`)) as Record<string, ModelClass>;
    return module[kind];
  } catch {
    return undefined;
  }
}

export interface SchemaResult {
  problems: string[];
  /** Kinds that have no schema here (custom resources of groups without a model package). */
  unchecked: string[];
}

function ajvMessages(error: unknown): string[] {
  const details = (error as { errors?: Array<{ instancePath?: string; message?: string; params?: Record<string, unknown> }> }).errors;
  if (!Array.isArray(details)) return [(error as Error).message];
  return details.map((d) => {
    const where = (d.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.') || '(object)';
    const extra = d.params && 'allowedValues' in d.params ? ` (${(d.params.allowedValues as unknown[]).join(', ')})` : '';
    return `${where}: ${d.message ?? 'invalid'}${extra}`;
  });
}

const knownTypes = new Map<string, boolean>();

/** client-node's model name for a kind (V1Deployment), when it has one. */
function typeName(object: KubeObject): string | undefined {
  const { version, kind } = gvkOf(object);
  const name = `${version[0]!.toUpperCase()}${version.slice(1)}${kind}`;
  if (!knownTypes.has(name)) {
    // A known model drops keys it does not define; an unknown type name passes the object through.
    const probe = ObjectSerializer.serialize({ __probe__: 1 }, name, '') as unknown;
    knownTypes.set(name, isRecord(probe) && !('__probe__' in probe));
  }
  return knownTypes.get(name) ? name : undefined;
}

/** Paths present in `original` and missing from `kept` (what the typed serializer did not recognise). */
function droppedPaths(original: unknown, kept: unknown, path: string, out: string[]): void {
  if (Array.isArray(original) && Array.isArray(kept)) {
    original.forEach((item, i) => droppedPaths(item, kept[i], `${path}[${i}]`, out));
    return;
  }
  if (!isRecord(original) || !isRecord(kept)) return;
  for (const key of Object.keys(original)) {
    const child = path ? `${path}.${key}` : key;
    if (!(key in kept)) out.push(child);
    else droppedPaths(original[key], kept[key], child, out);
  }
}

export function unknownFields(object: KubeObject): string[] {
  const name = typeName(object);
  if (!name) return [];
  const kept = ObjectSerializer.serialize(object, name, '');
  const out: string[] = [];
  droppedPaths(object, kept, '', out);
  return out.sort();
}

/** Checks every object; problems name the object and the field. */
export async function checkSchemas(objects: KubeObject[]): Promise<SchemaResult> {
  const problems: string[] = [];
  const unchecked = new Set<string>();
  for (const object of objects) {
    const Model = await modelFor(object);
    if (!Model) {
      unchecked.add(`${object.apiVersion} ${object.kind}`);
      continue;
    }
    try {
      new Model(object).validate();
    } catch (error) {
      for (const message of ajvMessages(error)) problems.push(`${describe(object)}: ${message}`);
    }
    for (const field of unknownFields(object)) problems.push(`${describe(object)}: ${field}: unknown field (not part of ${object.apiVersion} ${object.kind})`);
  }
  return { problems, unchecked: [...unchecked].sort() };
}
