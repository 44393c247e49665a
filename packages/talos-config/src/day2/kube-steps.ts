import { drain, nodeState, uncordon } from '@groundwork/kube';
import type { ClusterNode } from '@groundwork/cluster';
import { Day2Stop, waitFor, type Day2Context } from './context.ts';

/**
 * The Kubernetes half of taking a node out and bringing it back: drain within the PodDisruptionBudgets (a
 * budget that allows no eviction stops the operation, with the node left cordoned and the pods named), and,
 * afterwards, wait for the node to be Ready again before uncordoning it. Without a kubeconfig (a cluster not
 * bootstrapped yet) there is nothing to drain.
 */

/** Marks nodes groundwork cordoned, so a resumed run knows which cordons are its own to undo. */
export const CORDONED_BY = 'groundwork.dev/cordoned-for';

export async function drainNode(ctx: Day2Context, node: ClusterNode, why: string): Promise<void> {
  if (!ctx.kube) return;
  const state = await nodeState(ctx.kube, node.name);
  if (!state) {
    ctx.log.warn(`${node.name}: Kubernetes has no such node; nothing to drain`);
    return;
  }
  // A node someone cordoned before stays theirs: it is not marked, so it is not uncordoned afterwards.
  if (state.unschedulable) ctx.log.info(`${node.name}: already cordoned before this run; it stays cordoned afterwards`);
  else {
    const marked = await ctx.kube.request('PATCH', `/api/v1/nodes/${node.name}`, { metadata: { annotations: { [CORDONED_BY]: why } } }, 'application/merge-patch+json');
    if (marked.status >= 300) throw new Day2Stop(`${node.name}: could not annotate the node (HTTP ${marked.status})`);
  }
  const result = await ctx.log.progress(`${node.name}: draining (evictions honour PodDisruptionBudgets)`, () => drain(ctx.kube!, node.name, { timeoutMs: ctx.timeouts.drainMs, pollMs: ctx.timeouts.pollMs, log: ctx.log }));
  if (result.blocked.length) {
    throw new Day2Stop(
      `${node.name}: the drain stopped: ${result.blocked.map((b) => `${b.pod} (${b.reason})`).join('; ')}. The node stays cordoned; fix the budget or the workload, then run the command again`,
      'refused',
    );
  }
  ctx.log.info(`${node.name}: drained (${result.evicted.length} pod(s) evicted)`);
}

export async function waitReadyAndUncordon(ctx: Day2Context, node: ClusterNode, check: (state: { ready: boolean; kubeletVersion: string }) => boolean = (s) => s.ready): Promise<void> {
  if (!ctx.kube) return;
  await waitFor(ctx, `${node.name}: waiting for the node to be Ready in Kubernetes`, ctx.timeouts.nodeMs, async () => {
    const state = await nodeState(ctx.kube!, node.name);
    return state && check(state) ? true : undefined;
  });
  // Only a cordon this tool made (marked CORDONED_BY) is lifted.
  const current = await ctx.kube.request('GET', `/api/v1/nodes/${node.name}`);
  const annotations = current.status === 200 ? ((JSON.parse(current.body) as { metadata: { annotations?: Record<string, string> } }).metadata.annotations ?? {}) : {};
  if (!(CORDONED_BY in annotations)) return;
  await uncordon(ctx.kube, node.name);
  const cleared = await ctx.kube.request('PATCH', `/api/v1/nodes/${node.name}`, { metadata: { annotations: { [CORDONED_BY]: null } } }, 'application/merge-patch+json');
  if (cleared.status >= 300) throw new Day2Stop(`${node.name}: uncordoned, but its ${CORDONED_BY} annotation could not be removed (HTTP ${cleared.status})`);
}

/** Every node of the cluster file Ready in Kubernetes (the gate before the next node goes down). */
export async function notReadyNodes(ctx: Day2Context, nodes: ClusterNode[]): Promise<string[]> {
  if (!ctx.kube) return [];
  const states = await Promise.all(nodes.map((n) => nodeState(ctx.kube!, n.name)));
  return nodes.filter((_, i) => !states[i]?.ready).map((n) => n.name);
}

/**
 * After an interruption: nodes this operation cordoned (marked with CORDONED_BY) that are already done and
 * Ready get their cordon lifted, so a resumed run does not leave them unschedulable.
 */
export async function releaseLeftoverCordons(ctx: Day2Context, nodes: ClusterNode[], why: string): Promise<string[]> {
  if (!ctx.kube) return [];
  const released: string[] = [];
  for (const node of nodes) {
    const response = await ctx.kube.request('GET', `/api/v1/nodes/${node.name}`);
    if (response.status !== 200) continue;
    const object = JSON.parse(response.body) as { metadata: { annotations?: Record<string, string> }; spec?: { unschedulable?: boolean } };
    if (object.metadata.annotations?.[CORDONED_BY] !== why || !object.spec?.unschedulable) continue;
    if (ctx.dryRun) ctx.log.info(`${node.name}: would lift the cordon an interrupted run left`);
    else await waitReadyAndUncordon(ctx, node);
    released.push(node.name);
  }
  return released;
}
