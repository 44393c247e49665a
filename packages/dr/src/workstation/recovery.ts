import { backupPlan, controlPlanes, longestGapSeconds, type LoadedCluster } from '@groundwork/cluster';

/**
 * The recovery runbook of one cluster, with its own names, addresses, schedules and targets filled in:
 * what docs/recovery.md explains in general, printed ready to follow (`gw-dr recovery --cluster=NAME`).
 */

const h = (seconds: number) => `${Math.round(seconds / 3600)}h`;

export function recoveryRunbook(cluster: LoadedCluster): string {
  const { dr, n8n } = cluster.config.features;
  const name = cluster.name;
  const cps = controlPlanes(cluster.config);
  const first = cps[0]!;
  const talosctl = 'talosctl';
  const where = [dr.s3 ? `s3://${dr.s3.bucket}/${dr.s3.prefix ? `${dr.s3.prefix}/` : ''}${name}/` : undefined, dr.volume ? `the ${dr.volume.size} volume ${dr.namespace}/backups` : undefined].filter(Boolean).join(' and ');
  const plan = backupPlan(cluster.config);
  const lines: string[] = [
    `Recovery of ${name}`,
    '',
    `Backups go to ${where}, encrypted to the age recipients in clusters/${name}/cluster.yaml:`,
    ...plan.map((p) => `  - ${p.kind}: "${p.schedule}" (UTC): at most ${h(longestGapSeconds(p.schedule))} of changes lost (RPO)`),
    `  Kept per kind: the ${dr.retention.last} newest, ${dr.retention.daily} daily, ${dr.retention.weekly} weekly, ${dr.retention.monthly} monthly. Without clusters/${name}/age.key none of it can be read: keep a copy of the key outside the cluster and this repository.`,
    '',
  ];
  if (n8n.enabled) {
    lines.push(
      'A. n8n\'s data is lost or damaged (the cluster is fine)',
      `   npx gw-dr list --cluster=${name} --kind=postgres`,
      `   npx gw-dr restore postgres --cluster=${name}                  # newest; or --at=2026-11-29T01:30:00Z`,
      '   n8n is stopped, the dump restored in one transaction, n8n started again; the encryption key comes',
      '   from SOPS (n8n/n8n-encryption-key), so credentials keep working.',
      '',
      'B. Only workflows or credentials were deleted',
      `   npx gw-dr restore n8n --cluster=${name}                       # n8n's own import of the newest export`,
      '',
    );
  }
  lines.push(
    `C. etcd is lost (quorum gone, data corrupted), the nodes are fine`,
    `   export TALOSCONFIG=clusters/${name}/rendered/talos-config/talosconfig`,
    `   1. npx gw-dr fetch etcd --cluster=${name} --out=db.snapshot     # newest snapshot, decrypted and checked`,
    `      (etcd still answers? take a fresh one first: npx gw-dr etcd-snapshot --cluster=${name} --out=backups/)`,
    ...cps.map((node, i) => `   ${i === 0 ? '2.' : '  '} ${talosctl} -n ${node.ip} reset --graceful=false --reboot --system-labels-to-wipe=EPHEMERAL   # ${node.name}`),
    `   3. ${talosctl} -n ${first.ip} service etcd                     # wait for state Preparing (waiting for bootstrap)`,
    `   4. ${talosctl} -n ${first.ip} bootstrap --recover-from=./db.snapshot`,
    `   5. ${talosctl} -n ${first.ip} health && kubectl --kubeconfig clusters/${name}/rendered/kubeconfig get nodes`,
    '',
    'D. The whole cluster is gone: rebuild from Git and the backups',
    `   1. git clone the repository; put the cluster key back at clusters/${name}/age.key (0600)`,
    `   2. npx nx run-many -t generate verify --cluster=${name}; flash or boot the nodes (clusters/${name}/rendered/talos-config/boot-media.md)`,
    `   3. npx nx run talos-config:apply --cluster=${name}             # configure, bootstrap etcd, fetch the kubeconfig`,
    `      (to keep every Kubernetes object, bootstrap from the snapshot instead: C.1 then C.4 on new nodes)`,
    `   4. npx nx run-many -t apply --cluster=${name}                  # platform, observability, n8n with an empty database, dr`,
    ...(n8n.enabled ? [`   5. npx gw-dr restore postgres --cluster=${name}                # n8n's data back`] : []),
    `   ${n8n.enabled ? '6' : '5'}. npx nx run dr:drill --cluster=${name} && GROUNDWORK_LIVE=1 npx nx run-many -t verify --cluster=${name}`,
    '',
    'Recovery time (RTO) is the sum of the steps, mostly waiting; docs/recovery.md has the figures measured here',
    'and estimates for real hardware. The data-loss window (RPO) is the schedule\'s gap above, plus a run that failed.',
  );
  return `${lines.join('\n')}\n`;
}
