import type { IObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';

/** Labels groundwork stamps on every rendered object, so its own objects can always be told apart. */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  partOf: 'app.kubernetes.io/part-of',
  version: 'app.kubernetes.io/version',
  layer: 'groundwork.dev/layer',
  cluster: 'groundwork.dev/cluster',
  groundworkComponent: 'groundwork.dev/component',
} as const;

export const MANAGED_BY = 'groundwork';

/** Annotations groundwork reads back: why a namespace is not `restricted`, what a Secret holds. */
export const ANNOTATIONS = {
  podSecurityReason: 'groundwork.dev/pod-security-reason',
  description: 'groundwork.dev/description',
  /** On an object that deliberately runs a single replica: why that is acceptable. */
  singleReplicaReason: 'groundwork.dev/single-replica-reason',
} as const;

/** One deployable thing inside a component: what its objects are named and labelled. */
export interface App {
  name: string;
  namespace: string;
  /**
   * app.kubernetes.io/instance, and the default object name: tells apart several deployments of one
   * application (n8n's main, worker and webhook processes). Defaults to `name`.
   */
  instance?: string;
  /** app.kubernetes.io/component, e.g. "controller", "agent". */
  component?: string;
  /** app.kubernetes.io/part-of, e.g. "cilium" for the agent and the operator. */
  partOf?: string;
  /** Upstream version being deployed (the image tag), for app.kubernetes.io/version. */
  version?: string;
}

export function appLabels(app: App): Record<string, string> {
  const labels: Record<string, string> = selectorLabels(app);
  if (app.component) labels[LABELS.component] = app.component;
  if (app.partOf) labels[LABELS.partOf] = app.partOf;
  if (app.version) labels[LABELS.version] = app.version.replace(/^v/, '').replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63);
  return labels;
}

/** The labels a workload selects its pods by: stable across versions (selectors are immutable). */
export function selectorLabels(app: App): Record<string, string> {
  return { [LABELS.name]: app.name, [LABELS.instance]: app.instance ?? app.name };
}

/** The name of the app's own objects (its Deployment, Service, ServiceAccount, …). */
export const objectName = (app: App): string => app.instance ?? app.name;

/** Metadata of a namespaced object belonging to `app`. */
export function meta(app: App, name: string = objectName(app), extra: Pick<IObjectMeta, 'annotations' | 'labels'> = {}): IObjectMeta & { name: string; namespace: string } {
  return {
    name,
    namespace: app.namespace,
    labels: { ...appLabels(app), ...extra.labels },
    ...(extra.annotations ? { annotations: extra.annotations } : {}),
  };
}

/** Metadata of a cluster-scoped object belonging to `app`. */
export function clusterMeta(app: App, name: string, extra: Pick<IObjectMeta, 'annotations' | 'labels'> = {}): IObjectMeta & { name: string } {
  const { namespace: _namespace, ...rest } = meta(app, name, extra);
  return rest;
}
