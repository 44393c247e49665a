import { addressResolver, UserError } from '@groundwork/kit';
import type { ClusterNode, LoadedCluster } from '@groundwork/cluster';
import { loadTalosSecrets } from '../talos-secrets.ts';
import { PORTS } from '../versions.ts';
import { TalosClient } from './client.ts';

/**
 * A Talos API client for one node with the cluster's admin talosconfig (decrypted from SOPS in memory),
 * for other layers' commands (dr's on-demand etcd snapshot). GROUNDWORK_ADDRESS_MAP may send it elsewhere.
 */
export async function adminClient(root: string, cluster: LoadedCluster, node: ClusterNode, env: NodeJS.ProcessEnv = process.env, timeoutMs = 15_000): Promise<TalosClient> {
  const secrets = await loadTalosSecrets(root, cluster);
  if ('problem' in secrets) throw new UserError(secrets.problem);
  const target = addressResolver(env)(node.ip, PORTS.apid);
  return new TalosClient({ ...target, serverName: node.ip }, { mode: 'mtls', ca: secrets.bundle.certs.os.crt, ...secrets.client }, { timeoutMs });
}
