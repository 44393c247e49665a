/**
 * The shape every Kubernetes object shares. Components build typed objects (kubernetes-models); the
 * engine, the policies and the reports only need this much of them.
 */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export function gvkOf(object: Pick<KubeObject, 'apiVersion' | 'kind'>): GroupVersionKind {
  const slash = object.apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: object.apiVersion, kind: object.kind }
    : { group: object.apiVersion.slice(0, slash), version: object.apiVersion.slice(slash + 1), kind: object.kind };
}

/** `Kind.group` (or `Kind` for the core group), the form ApplySet annotations use. */
export function groupKind(object: Pick<KubeObject, 'apiVersion' | 'kind'>): string {
  const { group, kind } = gvkOf(object);
  return group ? `${kind}.${group}` : kind;
}

/** How objects are named in messages: `Deployment traefik/traefik`, `ClusterRole cilium`. */
export function describe(object: Pick<KubeObject, 'kind' | 'metadata'>): string {
  const { namespace, name } = object.metadata;
  return `${object.kind} ${namespace ? `${namespace}/` : ''}${name}`;
}

/** A key that identifies an object within a cluster (the version is not part of its identity). */
export function objectKey(object: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): string {
  return `${groupKind(object)}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

/** Plain JSON data of a typed model or a literal (drops undefined, class instances become objects). */
export function toPlain<T extends object>(object: T): KubeObject {
  return JSON.parse(JSON.stringify(object)) as KubeObject;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
