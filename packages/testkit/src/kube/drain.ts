import type { KubeObject, TestClient } from './client.ts';

/**
 * `kubectl drain` on a test cluster: cordon the node, then evict its pods through the Eviction API, which the
 * real API server refuses (429) while a PodDisruptionBudget allows no disruption; retried as kubectl does until
 * the budget allows it (a replacement has become ready elsewhere) or time runs out. DaemonSet pods and mirror
 * pods stay, as kubectl drain leaves them.
 */

export interface DrainOutcome {
  node: string;
  evicted: string[];
  /** Pods still there when time ran out, with the API server's last refusal. */
  blocked: Array<{ pod: string; reason: string }>;
  ms: number;
}

const ownedByDaemonSet = (pod: KubeObject) => ((pod.metadata.ownerReferences as Array<{ kind: string }> | undefined) ?? []).some((o) => o.kind === 'DaemonSet');
const isMirror = (pod: KubeObject) => !!pod.metadata.annotations?.['kubernetes.io/config.mirror'];
const finished = (pod: KubeObject) => ['Succeeded', 'Failed'].includes((pod.status as { phase?: string } | undefined)?.phase ?? '');

export async function drainNode(client: TestClient, node: string, options: { timeoutMs?: number; pollMs?: number } = {}): Promise<DrainOutcome> {
  const started = Date.now();
  await client.mergePatch('v1', 'Node', node, undefined, { spec: { unschedulable: true } }, 'kubectl-drain');
  const evicted = new Set<string>();
  const refusals = new Map<string, string>();
  for (;;) {
    const pods = (await client.list('v1', 'Pod', { fieldSelector: `spec.nodeName=${node}` })).filter((p) => !ownedByDaemonSet(p) && !isMirror(p) && !finished(p) && !p.metadata.deletionTimestamp);
    if (pods.length === 0) return { node, evicted: [...evicted], blocked: [], ms: Date.now() - started };
    for (const pod of pods) {
      const name = `${pod.metadata.namespace}/${pod.metadata.name}`;
      const response = await client.request('POST', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace } });
      if (response.status === 201 || response.status === 200) {
        evicted.add(name);
        refusals.delete(name);
      } else if (response.status !== 404) refusals.set(name, `${response.status} ${(response.json<{ message?: string }>().message ?? response.body).slice(0, 300)}`);
    }
    if (Date.now() - started > (options.timeoutMs ?? 60_000)) {
      return { node, evicted: [...evicted], blocked: [...refusals].map(([pod, reason]) => ({ pod, reason })), ms: Date.now() - started };
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
  }
}

export async function uncordon(client: TestClient, node: string): Promise<void> {
  await client.mergePatch('v1', 'Node', node, undefined, { spec: { unschedulable: null } }, 'kubectl-drain');
}
