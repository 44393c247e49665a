import { gvkOf, type KubeObject } from './object.ts';

/**
 * Apply phases, in order. Rendering sorts objects the same way, so a rendered file reads top to bottom
 * in the order the engine applies it.
 */
export const PHASES = ['namespaces', 'crds', 'cluster', 'config', 'services', 'workloads', 'custom'] as const;
export type Phase = (typeof PHASES)[number];

const KIND_PHASE: Record<string, Phase> = {
  Namespace: 'namespaces',
  CustomResourceDefinition: 'crds',
  ClusterRole: 'cluster',
  ClusterRoleBinding: 'cluster',
  PriorityClass: 'cluster',
  StorageClass: 'cluster',
  IngressClass: 'cluster',
  ValidatingAdmissionPolicy: 'cluster',
  ValidatingAdmissionPolicyBinding: 'cluster',
  ServiceAccount: 'config',
  Role: 'config',
  RoleBinding: 'config',
  ConfigMap: 'config',
  Secret: 'config',
  NetworkPolicy: 'config',
  ResourceQuota: 'config',
  LimitRange: 'config',
  PersistentVolumeClaim: 'config',
  Service: 'services',
  APIService: 'services',
  Deployment: 'workloads',
  StatefulSet: 'workloads',
  DaemonSet: 'workloads',
  Job: 'workloads',
  CronJob: 'workloads',
  Pod: 'workloads',
  PodDisruptionBudget: 'workloads',
  HorizontalPodAutoscaler: 'workloads',
  Ingress: 'workloads',
};

/** Groups served by Kubernetes itself; anything else is a custom resource whose CRD must exist first. */
export function isBuiltinGroup(group: string): boolean {
  return group === '' || !group.includes('.') || group.endsWith('.k8s.io');
}

export function phaseOf(object: Pick<KubeObject, 'apiVersion' | 'kind'>): Phase {
  const { group, kind } = gvkOf(object);
  if (!isBuiltinGroup(group)) return 'custom';
  return KIND_PHASE[kind] ?? 'workloads';
}

const KIND_RANK = new Map(Object.keys(KIND_PHASE).map((kind, index) => [kind, index]));

/** Stable order: phase, then kind (in the table's order), namespace, name. */
export function compareObjects(a: KubeObject, b: KubeObject): number {
  return (
    PHASES.indexOf(phaseOf(a)) - PHASES.indexOf(phaseOf(b)) ||
    (KIND_RANK.get(a.kind) ?? 999) - (KIND_RANK.get(b.kind) ?? 999) ||
    a.kind.localeCompare(b.kind) ||
    (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') ||
    a.metadata.name.localeCompare(b.metadata.name)
  );
}
