import { addressResolver, UserError } from '@groundwork/kit';
import type { ClusterNode, LoadedCluster } from '@groundwork/cluster';
import { loadTalosSecrets, type TalosSecrets } from '../talos-secrets.ts';
import { PORTS } from '../versions.ts';
import { TalosClient, type Credentials } from './client.ts';

type Loaded = Exclude<TalosSecrets, { problem: string }>;

/** The talosconfig admin's mutual TLS: its certificate, and the Talos OS CA the nodes must prove themselves with. */
export function adminCredentials(secrets: Loaded): Extract<Credentials, { mode: 'mtls' }> {
  return { mode: 'mtls', ca: secrets.bundle.certs.os.crt, ...secrets.client };
}

/** An admin client for one node, which the address map may send elsewhere (TLS still checks the node's own IP). */
export function adminClientFor(secrets: Loaded, node: ClusterNode, env: NodeJS.ProcessEnv = process.env, timeoutMs = 15_000): TalosClient {
  const target = addressResolver(env)(node.ip, PORTS.apid);
  return new TalosClient({ ...target, serverName: node.ip }, adminCredentials(secrets), { timeoutMs });
}

/**
 * A Talos API client for one node with the cluster's admin talosconfig (decrypted from SOPS in memory),
 * for other layers' commands (dr's on-demand etcd snapshot). GROUNDWORK_ADDRESS_MAP may send it elsewhere.
 */
export async function adminClient(root: string, cluster: LoadedCluster, node: ClusterNode, env: NodeJS.ProcessEnv = process.env, timeoutMs = 15_000): Promise<TalosClient> {
  const secrets = await loadTalosSecrets(root, cluster);
  if ('problem' in secrets) throw new UserError(secrets.problem);
  return adminClientFor(secrets, node, env, timeoutMs);
}
