import type { LoadedCluster } from '@groundwork/cluster';
import { allowApiServer, allowDns, defaultDeny, isolatedNamespace, namespace } from '@groundwork/kube';
import { AGENTS_NAMESPACE, NAMESPACE } from '../names.ts';

/** Two namespaces: the restricted one for the stack, a privileged one for the per-node agents. */
export function namespaces(cluster: LoadedCluster): object[] {
  const { nodeCidr } = cluster.config.network;
  return [
    ...isolatedNamespace(NAMESPACE, 'restricted', { nodeCidr }),
    namespace(AGENTS_NAMESPACE, {
      level: 'privileged',
      reason: 'node-exporter reads the node through host network, host PID and the host root filesystem; the log shipper reads the container log files on the host and takes the Talos logs on the loopback of the node (host network)',
    }),
    defaultDeny(AGENTS_NAMESPACE),
    allowDns(AGENTS_NAMESPACE),
    allowApiServer(AGENTS_NAMESPACE, nodeCidr),
  ];
}
