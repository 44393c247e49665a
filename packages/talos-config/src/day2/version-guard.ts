import { existsSync, readFileSync } from 'node:fs';
import { kubernetesVersion, type LoadedCluster } from '@groundwork/cluster';
import type { Address } from '@groundwork/kit';
import { kubeconfigLocation } from '@groundwork/kube';
import { kubeCredentialsFromKubeconfig, kubeGet } from '../api/kube.ts';

/**
 * Whether apply is about to change the Kubernetes version of a running cluster: its API server answers with
 * another version than the cluster file pins. Apply would move every node at once; gw-talos upgrade-k8s moves
 * one component on one node at a time. A cluster that does not answer (not bootstrapped yet, or down) is not
 * a version change apply can see, and is left to apply's own checks.
 */
export async function kubernetesVersionJump(root: string, cluster: LoadedCluster, kubernetesCa: string, resolve: (host: string, port: number) => Address, timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  // The API server the layers and the Day-2 commands use (GROUNDWORK_KUBECONFIG, else the fetched kubeconfig).
  const path = kubeconfigLocation(root, cluster.name, env);
  if (!existsSync(path)) return undefined;
  try {
    const credentials = { ...kubeCredentialsFromKubeconfig(readFileSync(path, 'utf8')), ca: kubernetesCa };
    const response = await kubeGet(credentials, '/version', resolve, timeoutMs);
    if (response.status !== 200) return undefined;
    const live = (JSON.parse(response.body) as { gitVersion?: string }).gitVersion;
    const pinned = `v${kubernetesVersion(cluster.config)}`;
    if (!live || live === pinned) return undefined;
    return `the cluster runs Kubernetes ${live} and the cluster file pins ${pinned}: apply would restart every node's control plane and kubelet at once. Run gw-talos upgrade-k8s --cluster=${cluster.name} (one component, one node at a time), or set GROUNDWORK_ALLOW_VERSION_CHANGE=1 to apply anyway`;
  } catch {
    return undefined;
  }
}
