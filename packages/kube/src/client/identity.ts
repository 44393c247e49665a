import { EXIT_CODES } from '@groundwork/cluster';
import { UserError } from '@groundwork/kit';
import { LABELS, MANAGED_BY } from '../build/labels.ts';
import type { KubeApi } from './api.ts';

const REF = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'groundwork-cluster', namespace: 'kube-system' } };

/**
 * The cluster-identity guard. The first apply records the cluster's name in kube-system; every later
 * apply compares, so one cluster's objects are never pushed into another because a kubeconfig pointed
 * at the wrong API server.
 */
export async function guardIdentity(api: KubeApi, cluster: string, options: { record: boolean }): Promise<'recorded' | 'matches' | 'unrecorded'> {
  const live = await api.get(REF);
  const recorded = (live?.data as Record<string, string> | undefined)?.cluster;
  if (recorded !== undefined && recorded !== cluster) {
    throw new UserError(
      `refusing to apply: the API server at ${api.server} belongs to cluster "${recorded}" (recorded in kube-system/groundwork-cluster by its first apply), ` +
        `but these are cluster "${cluster}"'s objects. Point clusters/${cluster}/rendered/kubeconfig (or GROUNDWORK_KUBECONFIG) at ${cluster}'s API server.`,
      { exitCode: EXIT_CODES.otherCluster },
    );
  }
  if (recorded === cluster) return 'matches';
  if (!options.record) return 'unrecorded';
  await api.apply({
    ...REF,
    metadata: { ...REF.metadata, labels: { [LABELS.managedBy]: MANAGED_BY, [LABELS.cluster]: cluster } },
    data: { cluster },
  });
  return 'recorded';
}
