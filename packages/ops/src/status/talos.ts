import type { LoadedCluster } from '@groundwork/cluster';
import { adminClientFor, etcdProblems, type EtcdMember, type TalosSecrets } from '@groundwork/talos-config';
import type { EtcdMemberView, EtcdNodeView, EtcdSection } from './types.ts';

/**
 * The Talos side of the status: each node's Talos version and the control planes' view of etcd, through the
 * Talos API with the cluster's admin talosconfig. Every node is asked at once, each call with a short deadline,
 * so one dead node costs one timeout, not one per node.
 */

export interface TalosAnswers {
  /** Per node name: its version tag, or the error it gave. */
  versions: Map<string, { version?: string; error?: string }>;
  etcd: EtcdSection;
}

type Settled<T> = { value: T; error?: undefined } | { value?: undefined; error: string };

async function settle<T>(work: Promise<T>): Promise<Settled<T>> {
  try {
    return { value: await work };
  } catch (error) {
    // gRPC's connection errors end in an empty "Resolution note:"; it only adds noise to a status line.
    return { error: (error as Error).message.split('\n')[0]!.replace(/\.?\s*Resolution note:\s*$/, '') };
  }
}

/** Asks every node for its version and every control plane for etcd's state, in parallel. */
export async function askTalos(cluster: LoadedCluster, secrets: TalosSecrets, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<TalosAnswers> {
  const nodes = cluster.config.nodes;
  const controlPlanes = nodes.filter((n) => n.role === 'controlplane');
  if ('problem' in secrets) {
    const versions = new Map(nodes.map((n) => [n.name, { error: secrets.problem }]));
    return { versions, etcd: { verdict: 'unknown', problems: [secrets.problem], members: [], views: [] } };
  }
  const clients = new Map(nodes.map((n) => [n.name, adminClientFor(secrets, n, env, timeoutMs)]));
  try {
    const [versionAnswers, etcdAnswers] = await Promise.all([
      Promise.all(nodes.map(async (n) => [n.name, await settle(clients.get(n.name)!.version())] as const)),
      Promise.all(
        controlPlanes.map(async (n) => {
          const client = clients.get(n.name)!;
          const [status, members] = await Promise.all([settle(client.etcdStatus()), settle(client.etcdMembers())]);
          return { node: n.name, status, members };
        }),
      ),
    ]);
    const versions = new Map(versionAnswers.map(([name, answer]) => [name, answer.error !== undefined ? { error: answer.error } : { version: answer.value.tag }]));
    return { versions, etcd: judgeEtcd(controlPlanes.map((n) => n.name), etcdAnswers) };
  } finally {
    for (const client of clients.values()) client.close();
  }
}

type EtcdAnswer = { node: string; status: Settled<{ memberId: string; leader: string; errors: string[]; dbSize: number }>; members: Settled<EtcdMember[]> };

/** etcd's section: the views and members as the control planes report them, judged by talos-config's rules. */
export function judgeEtcd(controlPlanes: string[], answers: EtcdAnswer[]): EtcdSection {
  const views: EtcdNodeView[] = answers.map(({ node, status }) =>
    status.error !== undefined
      ? { node, errors: [], error: status.error }
      : { node, memberId: status.value.memberId, leaderId: status.value.leader, dbSizeBytes: status.value.dbSize, errors: status.value.errors },
  );
  // Members as the first control plane that answers lists them: they are etcd's one cluster-wide list.
  const listed = answers.find((a) => a.members.error === undefined)?.members.value;
  const noList = new Error(answers.length ? answers.map((a) => a.members.error).filter(Boolean).join('; ') : 'the cluster file has no control planes');
  const statuses = answers.map(({ node, status }) => ({ node, status: status.error !== undefined ? new Error(status.error) : { ...status.value, isLearner: false, protocolVersion: '' } }));
  const { problems, leaderId } = etcdProblems(controlPlanes, statuses, listed ?? noList);
  const list = listed ?? [];
  const members: EtcdMemberView[] = list.map((m) => ({ id: m.id, hostname: m.hostname, isLearner: m.isLearner, leader: m.id === leaderId }));
  const leader = leaderId ? (list.find((m) => m.id === leaderId)?.hostname ?? `member ${leaderId}`) : undefined;
  // Control planes that do not answer are a fault, not an unknown: etcd's quorum lives on them.
  return { verdict: problems.length ? 'unhealthy' : 'healthy', problems, ...(leader ? { leader } : {}), members, views };
}
