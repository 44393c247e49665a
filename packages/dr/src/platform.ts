import { backupPlan, type LoadedCluster } from '@groundwork/cluster';
import type { Component, KubeLayer } from '@groundwork/kube';
import { liveChecks } from './checks/live.ts';
import { staticChecks } from './checks/static.ts';
import { appDatabaseBackup, etcdBackup, n8nBackup, postgresBackup } from './components/backups.ts';
import { network } from './components/network.ts';
import { runnerConfig } from './components/runner.ts';
import { backupVolume } from './components/volume.ts';
import { appVolumeBackups } from './components/volumes.ts';
import { LAYER } from './names.ts';

/** Everything the layer renders; nothing when the cluster file leaves dr off. */
export function components(cluster: LoadedCluster): Component[] {
  const { dr, n8n } = cluster.config.features;
  if (!dr.enabled) return [];
  const targets = [dr.s3 ? `s3://${dr.s3.bucket}` : undefined, dr.volume ? `a ${dr.volume.size} volume` : undefined].filter(Boolean).join(' and ');
  const plan = Object.fromEntries(backupPlan(cluster.config).map((p) => [p.kind, p.schedule]));
  const out: Component[] = [
    { name: 'network', description: `the ${dr.namespace} namespace, default-deny, and what the backup jobs may reach`, objects: network(cluster) },
    { name: 'runner', description: 'the backup program and scripts every job runs, and the age recipients backups are encrypted to', objects: [runnerConfig(cluster), ...backupVolume(cluster)] },
    { name: 'etcd', description: `etcd snapshots through the Talos API on "${plan.etcd}" to ${targets}`, objects: etcdBackup(cluster) },
  ];
  if (n8n.enabled) {
    out.push({ name: 'postgres', description: `dumps of the n8n database on "${plan.postgres}" to ${targets}`, objects: postgresBackup(cluster) });
    out.push({ name: 'n8n', description: `n8n workflow and credential exports on "${plan.n8n}" to ${targets}`, objects: n8nBackup(cluster) });
  }
  const plans = backupPlan(cluster.config);
  for (const app of cluster.config.apps ?? []) {
    const dump = plans.find((p) => p.app === app && !p.volume);
    if (dump) out.push({ name: dump.job, description: `dumps of ${app.name}'s database on "${dump.schedule}" to ${targets}`, objects: appDatabaseBackup(cluster, dump, app) });
    const volumes = plans.filter((p) => p.app === app && p.volume);
    if (volumes.length) {
      out.push({ name: `${app.name}-volumes`, description: `archives of ${app.name}'s volume${volumes.length === 1 ? '' : 's'} ${volumes.map((p) => p.volume).join(', ')} on "${volumes[0]!.schedule}" to s3://${dr.s3!.bucket}, from its namespace`, objects: appVolumeBackups(cluster, app, volumes) });
    }
  }
  return out;
}

export const drLayer: KubeLayer = { name: LAYER, components, staticChecks, liveChecks };
