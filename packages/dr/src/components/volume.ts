import type { LoadedCluster } from '@groundwork/cluster';
import { meta } from '@groundwork/kube';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { VOLUME_CLAIM, namespaceOf } from '../names.ts';

/**
 * The volume target: a claim every backup Job mounts (ReadWriteOnce: the Jobs run one after the other on
 * the node that holds it). Point storageClass at an NFS-backed class to keep these copies off the nodes.
 */
export function backupVolume(cluster: LoadedCluster): IPersistentVolumeClaim[] {
  const { volume } = cluster.config.features.dr;
  if (!volume) return [];
  return [
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: meta({ name: VOLUME_CLAIM, namespace: namespaceOf(cluster), component: 'storage', partOf: 'dr' }),
      spec: {
        accessModes: ['ReadWriteOnce'],
        ...(volume.storageClass ? { storageClassName: volume.storageClass } : {}),
        resources: { requests: { storage: volume.size } },
      },
    },
  ];
}
