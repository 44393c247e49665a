import type { Cluster } from './schema.ts';

/**
 * local-path volumes on a dedicated disk: a node's `localStorageDisk` becomes a Talos user volume, which Talos
 * always mounts at /var/mnt/<name> (constants.UserVolumeMountPoint). The volume is named after hostPath, so
 * the provisioner writes onto the disk on those nodes and onto the system partition on the others.
 */

export const USER_VOLUME_MOUNT_POINT = '/var/mnt';

/** Talos labels the partition u-<name> within its 36-character limit, and allows letters, digits and "-". */
const USER_VOLUME_NAME = /^[A-Za-z0-9-]{1,34}$/;

/** Fields of a disk in Talos's CEL disk selectors (block.DiskSpec); a typo there only fails on the node. */
const DISK_FIELDS = [
  'size', 'io_size', 'sector_size', 'readonly', 'model', 'serial', 'modalias', 'wwid', 'bus_path', 'sub_system',
  'transport', 'rotational', 'cdrom', 'dev_path', 'pretty_size', 'secondary_disks', 'uuid', 'symlinks',
];

/** The user volume holding local-path volumes: hostPath's last segment, when hostPath is /var/mnt/<name>. */
export function localStorageVolumeName(cluster: Cluster): string | undefined {
  const { hostPath } = cluster.features.localStorage;
  const prefix = `${USER_VOLUME_MOUNT_POINT}/`;
  if (!hostPath.startsWith(prefix)) return undefined;
  const name = hostPath.slice(prefix.length);
  return USER_VOLUME_NAME.test(name) ? name : undefined;
}

/** `disk.<field>` references outside string literals whose field Talos's disk has not got. */
function unknownDiskFields(expression: string): string[] {
  const code = expression.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  const fields = [...code.matchAll(/(?<![\w.])disk\s*\.\s*([A-Za-z_]\w*)/g)].map((m) => m[1]!);
  return [...new Set(fields.filter((f) => !DISK_FIELDS.includes(f)))];
}

export function checkLocalStorage(
  cluster: Cluster,
  error: (path: string, message: string) => void,
  warning: (path: string, message: string) => void,
): void {
  const storage = cluster.features.localStorage;
  const withDisk = cluster.nodes.flatMap((node, i) => (node.localStorageDisk ? [{ node, disk: node.localStorageDisk, i }] : []));
  // A disk selector (CEL over Talos's disk fields) names only fields Talos knows and should leave the boot disk out.
  const checkSelector = (at: string, match: string, systemDiskRisk: string) => {
    for (const field of unknownDiskFields(match)) error(`${at}.match`, `disk.${field} is not a field of a Talos disk (fields: ${DISK_FIELDS.join(', ')})`);
    if (!/(?<![\w.])system_disk(?!\w)/.test(match)) warning(`${at}.match`, `does not exclude the system disk: add && !system_disk, or ${systemDiskRisk}`);
  };
  for (const { node, disk, i } of withDisk) {
    const at = `nodes[${i}].localStorageDisk`;
    if (node.platform === 'docker') error(at, 'Talos in Docker has no disks to put a user volume on; remove it');
    if (!storage.enabled) error(at, 'needs features.localStorage.enabled: the disk only holds local-path volumes');
    checkSelector(at, disk.match, 'Talos may carve the volume out of free space on the boot disk');
  }
  cluster.nodes.forEach((node, i) => {
    if (!node.ephemeralDisk) return;
    const at = `nodes[${i}].ephemeralDisk`;
    if (node.platform === 'docker') error(at, 'Talos in Docker keeps /var in a Docker volume; remove it');
    checkSelector(at, node.ephemeralDisk.match, '/var stays where it is');
  });
  if (withDisk.length === 0 || !storage.enabled || localStorageVolumeName(cluster) !== undefined) return;
  const nodes = withDisk.map(({ node, i }) => `nodes[${i}] ${node.name}`).join(', ');
  error(
    'features.localStorage.hostPath',
    `must be ${USER_VOLUME_MOUNT_POINT}/<volume name> (1 to 34 letters, digits or "-") when a node has localStorageDisk (${nodes}): ` +
      `Talos mounts that node's user volume at ${USER_VOLUME_MOUNT_POINT}/<volume name>, and local-path must write there (got "${storage.hostPath}")`,
  );
}
