import { localStorageVolumeName, type Cluster, type ClusterNode } from '@groundwork/cluster';

/**
 * local-path volumes on a node's own disk (`nodes[].localStorageDisk`), as a Talos user volume (Talos ≥ 1.10):
 * a partition Talos creates in the free space of the first disk the CEL selector matches, formatted xfs and
 * mounted at /var/mnt/<name>. It is named after features.localStorage.hostPath (the cluster file requires
 * /var/mnt/<name>), so the provisioner, which uses the same path on every node, writes onto that disk here.
 * A partition needs minSize or maxSize; with no maxSize Talos gives it all the free space of the disk.
 */

type Doc = Record<string, unknown>;

export function storageDocuments(cluster: Cluster, node: ClusterNode): Doc[] {
  return [...ephemeralDocuments(node), ...userVolumeDocuments(cluster, node)];
}

/**
 * /var on another disk (`nodes[].ephemeralDisk`): Talos's EPHEMERAL volume, which holds etcd's data, containerd's
 * images and the pod logs, created in the free space of the first disk the selector matches instead of on the
 * system disk. A Pi that boots from its SD card keeps etcd's writes on a USB SSD this way.
 */
function ephemeralDocuments(node: ClusterNode): Doc[] {
  const disk = node.ephemeralDisk;
  if (!disk) return [];
  return [{ apiVersion: 'v1alpha1', kind: 'VolumeConfig', name: 'EPHEMERAL', provisioning: { diskSelector: { match: disk.match }, minSize: disk.minSize } }];
}

function userVolumeDocuments(cluster: Cluster, node: ClusterNode): Doc[] {
  const disk = node.localStorageDisk;
  if (!disk) return [];
  const name = localStorageVolumeName(cluster);
  if (!cluster.features.localStorage.enabled || name === undefined || node.platform === 'docker') {
    throw new Error(`node ${node.name}: localStorageDisk needs local storage on, a /var/mnt/<name> hostPath and real disks (the cluster file checks this)`);
  }
  return [
    {
      apiVersion: 'v1alpha1',
      kind: 'UserVolumeConfig',
      name,
      provisioning: { diskSelector: { match: disk.match }, minSize: disk.minSize },
    },
  ];
}
