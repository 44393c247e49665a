import { isRecord, type KubeObject } from '../model/object.ts';

/** A pod template found in an object, and the path to it (for messages that name the field). */
export interface PodTemplate {
  path: string;
  spec: Record<string, unknown>;
  annotations: Record<string, string>;
  labels: Record<string, string>;
}

export interface ContainerRef {
  /** `spec.template.spec.containers[traefik]` */
  path: string;
  kind: 'containers' | 'initContainers' | 'ephemeralContainers';
  container: Record<string, unknown>;
}

const TEMPLATE_PATHS: Record<string, string[]> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** The pod an object runs, if any: a Pod itself or the template of a workload. */
export function podTemplateOf(object: KubeObject): PodTemplate | undefined {
  if (object.kind === 'Pod') {
    const metadata = object.metadata;
    return isRecord(object.spec) ? { path: 'spec', spec: object.spec, annotations: metadata.annotations ?? {}, labels: metadata.labels ?? {} } : undefined;
  }
  const path = TEMPLATE_PATHS[object.kind];
  if (!path) return undefined;
  let node: unknown = object;
  for (const key of path) node = isRecord(node) ? node[key] : undefined;
  if (!isRecord(node) || !isRecord(node.spec)) return undefined;
  const metadata = isRecord(node.metadata) ? node.metadata : {};
  return {
    path: `${path.join('.')}.spec`,
    spec: node.spec,
    annotations: (metadata.annotations as Record<string, string> | undefined) ?? {},
    labels: (metadata.labels as Record<string, string> | undefined) ?? {},
  };
}

export function containersOf(pod: PodTemplate): ContainerRef[] {
  const out: ContainerRef[] = [];
  for (const kind of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    const list = pod.spec[kind];
    if (!Array.isArray(list)) continue;
    for (const container of list) {
      if (isRecord(container)) out.push({ path: `${pod.path}.${kind}[${String(container.name)}]`, kind, container });
    }
  }
  return out;
}

/** Workloads whose containers run until stopped (as opposed to Jobs that run to completion). */
export function isLongRunning(object: KubeObject): boolean {
  return ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'].includes(object.kind);
}

/** Replicas a workload asks for (a DaemonSet's depend on the nodes; undefined here). */
export function replicasOf(object: KubeObject): number | undefined {
  if (!['Deployment', 'StatefulSet', 'ReplicaSet'].includes(object.kind)) return undefined;
  const spec = isRecord(object.spec) ? object.spec : {};
  return typeof spec.replicas === 'number' ? spec.replicas : 1;
}

export function get(value: unknown, ...keys: string[]): unknown {
  let node = value;
  for (const key of keys) node = isRecord(node) ? node[key] : undefined;
  return node;
}
