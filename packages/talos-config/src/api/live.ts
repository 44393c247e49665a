import { controlPlanes, talosVersion, workers, type Cluster, type ClusterNode } from '@groundwork/cluster';
import type { Address, Logger } from '@groundwork/kit';
import { TalosClient, type Credentials } from './client.ts';
import { kubeCredentialsFromKubeconfig, kubeGet } from './kube.ts';
import { PORTS } from '../versions.ts';

/**
 * verify against the running cluster: every node runs the Talos version the cluster file names, etcd's
 * members are exactly the control planes, Talos's own health check passes, and every node is registered in
 * Kubernetes.
 */
export interface LiveContext {
  cluster: Cluster;
  mtls: Extract<Credentials, { mode: 'mtls' }>;
  kubeconfig: string | undefined;
  resolve: (host: string, port: number) => Address;
  log: Logger;
  timeoutMs: number;
  healthWaitSeconds: number;
}

function connect(ctx: LiveContext, node: ClusterNode): TalosClient {
  return new TalosClient({ ...ctx.resolve(node.ip, PORTS.apid), serverName: node.ip }, ctx.mtls, { timeoutMs: ctx.timeoutMs });
}

export async function liveProblems(ctx: LiveContext): Promise<string[]> {
  const problems: string[] = [];
  const expected = talosVersion(ctx.cluster);
  for (const node of ctx.cluster.nodes) {
    const talos = connect(ctx, node);
    try {
      const { tag } = await talos.version();
      if (tag !== expected) problems.push(`${node.name}: runs Talos ${tag}, the cluster file says ${expected}`);
    } catch (error) {
      problems.push(`${node.name}: ${(error as Error).message}`);
    } finally {
      talos.close();
    }
  }
  const first = controlPlanes(ctx.cluster)[0]!;
  const talos = connect(ctx, first);
  try {
    const members = (await talos.etcdMembers()).map((m) => m.hostname).sort();
    const wanted = controlPlanes(ctx.cluster).map((n) => n.name).sort();
    if (members.join(',') !== wanted.join(',')) problems.push(`etcd members are [${members.join(', ')}], the control planes are [${wanted.join(', ')}]`);
    await ctx.log.progress('Talos health check', () =>
      talos.healthCheck(controlPlanes(ctx.cluster).map((n) => n.ip), workers(ctx.cluster).map((n) => n.ip), ctx.healthWaitSeconds, (message) => ctx.log.info(`health: ${message}`)),
    );
  } catch (error) {
    problems.push(`${first.name}: ${(error as Error).message}`);
  } finally {
    talos.close();
  }
  if (!ctx.kubeconfig) problems.push('no kubeconfig yet (clusters/<name>/rendered/kubeconfig is written by apply)');
  else {
    try {
      const response = await kubeGet(kubeCredentialsFromKubeconfig(ctx.kubeconfig), '/api/v1/nodes', ctx.resolve, ctx.timeoutMs);
      if (response.status !== 200) problems.push(`Kubernetes /api/v1/nodes answered ${response.status}`);
      else {
        const registered = new Set((JSON.parse(response.body) as { items: Array<{ metadata: { name: string } }> }).items.map((i) => i.metadata.name));
        const missing = ctx.cluster.nodes.filter((n) => !registered.has(n.name)).map((n) => n.name);
        if (missing.length) problems.push(`not registered in Kubernetes: ${missing.join(', ')}`);
      }
    } catch (error) {
      problems.push(`Kubernetes API: ${(error as Error).message}`);
    }
  }
  return problems;
}
