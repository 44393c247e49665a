import type { LoadedCluster } from '@groundwork/cluster';
import { clusterKeyServices, sops } from '@groundwork/secrets-sops';
import type { PemPair, SecretsBundle } from './bundle/bundle.ts';
import { bundlePath, clientPath, hasBundle, readBundle, readClient } from './bundle/store.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The cluster's Talos secrets, decrypted in memory, or the reason they cannot be (with the fix). */
export type TalosSecrets = { bundle: SecretsBundle; client: PemPair } | { problem: string };

export async function loadTalosSecrets(root: string, cluster: LoadedCluster): Promise<TalosSecrets> {
  if (!hasBundle(root, cluster)) {
    return { problem: `no Talos secrets bundle at ${bundlePath(cluster.name)}: create it once with gw-talos init --cluster=${cluster.name}` };
  }
  if (!existsSync(join(root, clientPath(cluster.name)))) {
    return { problem: `no talosconfig client at ${clientPath(cluster.name)}: create one with gw-talos rotate-client --cluster=${cluster.name}` };
  }
  const services = await clusterKeyServices(cluster);
  try {
    return { bundle: await readBundle(root, cluster, services), client: await readClient(root, cluster, services) };
  } catch (error) {
    if (error instanceof sops.SopsError && error.code === sops.codes.CouldNotRetrieveKey) {
      return {
        problem: `cannot decrypt ${bundlePath(cluster.name)}: no identity at hand for ${cluster.name} (set SOPS_AGE_KEY_FILE or SOPS_AGE_KEY, or put the key in clusters/${cluster.name}/age.key)`,
      };
    }
    throw error;
  }
}
