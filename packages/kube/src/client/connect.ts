import { existsSync } from 'node:fs';
import { UserError, kubeconfigPath } from '@groundwork/kit';
import { KubeApi, newKubeConfig } from './api.ts';

/**
 * Which API server a cluster's layers talk to: GROUNDWORK_KUBECONFIG when set, otherwise the admin
 * kubeconfig talos-config fetched. KUBECONFIG is ignored on purpose: it usually points at whatever
 * cluster a shell last used, and the identity guard should not be the only thing standing in the way.
 */
export function kubeconfigLocation(root: string, cluster: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.GROUNDWORK_KUBECONFIG || kubeconfigPath(root, cluster);
}

/** kubeconfigLocation, which must exist. */
export function kubeconfigFor(root: string, cluster: string, env: NodeJS.ProcessEnv = process.env): string {
  const path = kubeconfigLocation(root, cluster, env);
  if (!existsSync(path)) {
    throw new UserError(
      `no kubeconfig for cluster ${cluster} at ${path}: run \`npx nx run talos-config:apply --cluster=${cluster}\` (it fetches it) or set GROUNDWORK_KUBECONFIG`,
      { exitCode: 2 },
    );
  }
  return path;
}

export function connect(root: string, cluster: string, fieldManager: string, env: NodeJS.ProcessEnv = process.env): KubeApi {
  const config = newKubeConfig();
  config.loadFromFile(kubeconfigFor(root, cluster, env));
  return new KubeApi(config, fieldManager);
}
