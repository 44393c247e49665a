import type { Cluster, ClusterNode } from '@groundwork/cluster';
import type { Address, Logger } from '@groundwork/kit';
import type { KubeApi } from '@groundwork/kube';
import type { TalosClient, Credentials } from '../api/client.ts';
import { withNode } from '../api/calls.ts';

export { waitFor, withNode } from '../api/calls.ts';

/**
 * What every Day-2 operation (upgrades, node lifecycle) works with: the cluster file, the talosconfig's admin
 * credentials, where each node's Talos API answers, the Kubernetes API when there is a kubeconfig, and the
 * timeouts. Every node is asked through a fresh client that is closed after use.
 */
export interface Day2Context {
  cluster: Cluster;
  mtls: Extract<Credentials, { mode: 'mtls' }>;
  resolve: (host: string, port: number) => Address;
  log: Logger;
  dryRun: boolean;
  /** The Kubernetes API (admin kubeconfig), for drains, node readiness and static pods. */
  kube?: KubeApi;
  timeouts: {
    /** One Talos API call. */
    callMs: number;
    /** The first question to each node (all are asked at once). */
    probeMs: number;
    /** A node rebooting, a component restarting. */
    nodeMs: number;
    /** Evictions refused by PodDisruptionBudgets before a drain gives up. */
    drainMs: number;
    pollMs: number;
  };
}

export const talos = <T>(ctx: Day2Context, node: ClusterNode, use: (client: TalosClient) => Promise<T>, timeoutMs?: number) => withNode(ctx, node.ip, ctx.mtls, use, timeoutMs);

/** Every node's answer (or the error), asked at once with the short probe timeout. */
export async function askAll<T>(ctx: Day2Context, nodes: ClusterNode[], ask: (client: TalosClient) => Promise<T>): Promise<Map<string, T | Error>> {
  const answers = await Promise.all(nodes.map((node) => talos(ctx, node, ask, ctx.timeouts.probeMs).catch((error: Error) => error)));
  return new Map(nodes.map((node, i) => [node.name, answers[i]!]));
}

/** A step that stopped the operation: what failed, and the exit code it maps to. */
export class Day2Stop extends Error {
  readonly reason: 'problems' | 'unreachable' | 'refused';
  constructor(message: string, reason: Day2Stop['reason'] = 'problems') {
    super(message);
    this.reason = reason;
  }
}
