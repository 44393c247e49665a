import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, formatDuration, type Logger } from '@groundwork/kit';
import { controlPlanes, type LoadedCluster } from '@groundwork/cluster';
import { adminClient } from '@groundwork/talos-config';
import { encryptFile } from '../runner/crypto.ts';
import { checkEtcdSnapshot } from '../runner/integrity.ts';
import { backupFile } from '../runner/naming.ts';

/**
 * An etcd snapshot taken now, from the workstation, through the Talos API with the cluster's admin
 * talosconfig: before an upgrade or a risky change, without waiting for the schedule. It is checked,
 * encrypted to the cluster's recipients and written into a local folder under the same name a scheduled
 * one would have; the plaintext never lands outside a private scratch folder.
 */
export async function takeEtcdSnapshot(root: string, cluster: LoadedCluster, folder: string, options: { node?: string; log: Logger; env?: NodeJS.ProcessEnv; now?: number }): Promise<{ file: string; bytes: number; node: string }> {
  const nodes = controlPlanes(cluster.config);
  const node = options.node ? nodes.find((n) => n.name === options.node || n.ip === options.node) : nodes[0];
  if (!node) throw new UserError(`${options.node} is not a control plane of ${cluster.name} (control planes: ${nodes.map((n) => n.name).join(', ')})`, { exitCode: 2 });
  mkdirSync(folder, { recursive: true });
  const scratch = mkdtempSync(join(folder, '.etcd-snapshot-'));
  const plain = join(scratch, 'etcd.snapshot');
  const client = await adminClient(root, cluster, node, options.env);
  try {
    const fd = openSync(plain, 'w', 0o600);
    let bytes = 0;
    const started = performance.now();
    const ticker = setInterval(() => options.log.info(`receiving the snapshot from ${node.name}: ${(bytes / 1048576).toFixed(1)} MiB in ${formatDuration(performance.now() - started)}`), 5_000);
    try {
      await client.etcdSnapshot((chunk) => {
        writeSync(fd, chunk);
        bytes += chunk.length;
      });
    } finally {
      clearInterval(ticker);
      closeSync(fd);
    }
    await checkEtcdSnapshot(plain);
    const file = backupFile(cluster.name, 'etcd', Math.floor((options.now ?? Date.now()) / 1000) * 1000);
    await encryptFile(plain, join(folder, file), cluster.config.sops.age);
    return { file: join(folder, file), bytes: statSync(join(folder, file)).size, node: node.name };
  } finally {
    client.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}
