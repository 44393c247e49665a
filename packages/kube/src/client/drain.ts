import type { Logger } from '@groundwork/kit';
import type { KubeObject } from '../model/object.ts';
import type { KubeApi } from './api.ts';

/**
 * `kubectl drain` as the Day-2 commands need it: cordon the node, then evict its pods through the Eviction API,
 * which the API server refuses (429) while a PodDisruptionBudget allows no disruption; refused evictions are
 * retried until the budget allows them (a replacement became ready elsewhere) or time runs out, and then the
 * drain fails naming the pods and the server's reason (or that they are still terminating), leaving the node
 * cordoned. It is done when the evicted pods are gone, not when their evictions are accepted. DaemonSet pods, mirror pods
 * and finished pods stay, as kubectl drain leaves them.
 */

export interface DrainResult {
  evicted: string[];
  /** Pods still there when time ran out, with the API server's last refusal. */
  blocked: Array<{ pod: string; reason: string }>;
}

const ownedByDaemonSet = (pod: KubeObject) => ((pod.metadata.ownerReferences as Array<{ kind: string }> | undefined) ?? []).some((o) => o.kind === 'DaemonSet');
const isMirror = (pod: KubeObject) => !!pod.metadata.annotations?.['kubernetes.io/config.mirror'];
const finished = (pod: KubeObject) => ['Succeeded', 'Failed'].includes((pod.status as { phase?: string } | undefined)?.phase ?? '');

async function setUnschedulable(api: KubeApi, node: string, value: true | null): Promise<void> {
  const response = await api.request('PATCH', `/api/v1/nodes/${node}`, { spec: { unschedulable: value } }, 'application/merge-patch+json');
  if (response.status >= 300) throw new Error(`${value ? 'cordon' : 'uncordon'} ${node}: HTTP ${response.status} ${response.body.slice(0, 200)}`);
}

export const cordon = (api: KubeApi, node: string) => setUnschedulable(api, node, true);
export const uncordon = (api: KubeApi, node: string) => setUnschedulable(api, node, null);

export async function drain(api: KubeApi, node: string, options: { timeoutMs: number; pollMs?: number; log?: Logger }): Promise<DrainResult> {
  await cordon(api, node);
  const started = Date.now();
  const evicted = new Set<string>();
  const refusals = new Map<string, string>();
  for (;;) {
    const listed = await api.request('GET', `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node}`)}`);
    if (listed.status !== 200) throw new Error(`listing the pods on ${node}: HTTP ${listed.status}`);
    // Evicted pods count until they are gone, as kubectl drain waits for them: the node is not empty while they terminate.
    const pods = (JSON.parse(listed.body) as { items: KubeObject[] }).items.filter((p) => !ownedByDaemonSet(p) && !isMirror(p) && !finished(p));
    if (pods.length === 0) return { evicted: [...evicted], blocked: [] };
    for (const pod of pods.filter((p) => !p.metadata.deletionTimestamp)) {
      const name = `${pod.metadata.namespace}/${pod.metadata.name}`;
      const eviction = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace } };
      const response = await api.request('POST', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/eviction`, eviction);
      if (response.status === 200 || response.status === 201) {
        if (!evicted.has(name)) options.log?.info(`${node}: evicted ${name}`);
        evicted.add(name);
        refusals.delete(name);
      } else if (response.status !== 404) {
        let message = response.body;
        try {
          message = (JSON.parse(response.body) as { message?: string }).message ?? message;
        } catch {
          // not a Status: keep the body
        }
        refusals.set(name, `${response.status}: ${message.slice(0, 300)}`);
      }
    }
    if (Date.now() - started > options.timeoutMs) {
      const blocked = pods.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
      return { evicted: [...evicted], blocked: blocked.map((pod) => ({ pod, reason: refusals.get(pod) ?? 'still terminating' })) };
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 1000));
  }
}

/** The node's Ready condition and kubelet version, or undefined when Kubernetes does not know the node. */
export async function nodeState(api: KubeApi, node: string): Promise<{ ready: boolean; kubeletVersion: string; unschedulable: boolean } | undefined> {
  const response = await api.request('GET', `/api/v1/nodes/${node}`);
  if (response.status === 404) return undefined;
  if (response.status !== 200) throw new Error(`reading node ${node}: HTTP ${response.status}`);
  const object = JSON.parse(response.body) as { spec?: { unschedulable?: boolean }; status?: { conditions?: Array<{ type: string; status: string }>; nodeInfo?: { kubeletVersion?: string } } };
  return {
    ready: (object.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    kubeletVersion: object.status?.nodeInfo?.kubeletVersion ?? '',
    unschedulable: object.spec?.unschedulable ?? false,
  };
}
