import { nodeLabels, nodeTaints, type Cluster, type ClusterNode } from '@groundwork/cluster';
import { isRecord } from '../model/object.ts';
import type { PodTemplate } from '../policy/pods.ts';

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

function tolerates(tolerations: Toleration[], taint: { key: string; value?: string; effect: string }): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (!t.key) return t.operator === 'Exists';
    if (t.key !== taint.key) return false;
    return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
  });
}

/** Nodes of the cluster file a pod can be scheduled on (taints and nodeSelector; affinity is not modelled). */
export function eligibleNodes(cluster: Cluster, pod: PodTemplate): ClusterNode[] {
  const tolerations = (Array.isArray(pod.spec.tolerations) ? pod.spec.tolerations : []) as Toleration[];
  const selector = isRecord(pod.spec.nodeSelector) ? (pod.spec.nodeSelector as Record<string, string>) : {};
  return cluster.nodes.filter((node) => {
    const labels = nodeLabels(node);
    if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) return false;
    return nodeTaints(cluster, node)
      .filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')
      .every((t) => tolerates(tolerations, t));
  });
}
