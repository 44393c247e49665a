import { N8N_DATABASE_CLIENT_LABELS, controlPlanes, ipv4, type LoadedCluster } from '@groundwork/cluster';
import { isolatedNamespace, networkPolicy, peers, tcp, type PolicyRule } from '@groundwork/kube';
import { N8N_NAMESPACE, N8N_POSTGRES } from '@groundwork/n8n';
import { BACKUP_JOBS, backupPlan } from '@groundwork/cluster';
import { APP_DATABASE_CLIENT_LABEL, appDatabaseEndpoint } from '@groundwork/apps';
import { namespaceOf } from '../names.ts';

/** apid, the Talos API, on every node. */
export const TALOS_API_PORT = 50000;

/** The S3 endpoint's host and port. */
export function s3Address(endpoint: string): { host: string; port: number } {
  const url = new URL(endpoint);
  return { host: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
}

/**
 * Where the bucket is: its address when the endpoint names one; for a host name, the internet (public
 * addresses) and the node network (a NAS next to the nodes); and features.dr.s3.cidr when given; on the
 * endpoint's port only.
 */
export function bucketEgress(cluster: LoadedCluster): PolicyRule[] {
  const { s3 } = cluster.config.features.dr;
  if (!s3) return [];
  const { host, port } = s3Address(s3.endpoint);
  const targets = ipv4.parseIPv4(host) !== undefined ? [peers.cidr(`${host}/32`)] : [peers.internet(), peers.cidr(cluster.config.network.nodeCidr)];
  // A store on another private network (a subnet or VLAN the nodes route to), as the cluster file says.
  if (s3.cidr) targets.push(peers.cidr(s3.cidr));
  return [{ peers: targets, ports: tcp(port) }];
}

/**
 * The dr namespace (restricted, default-deny, DNS) and exactly what its Jobs reach: the bucket (every
 * pod: they all store or fetch), the control planes' Talos API (the etcd snapshot job), n8n's PostgreSQL
 * (pods labelled as database clients). Nothing reaches into the namespace.
 */
export function network(cluster: LoadedCluster): object[] {
  const namespace = namespaceOf(cluster);
  const objects: object[] = [...isolatedNamespace(namespace, 'restricted')];
  const bucket = bucketEgress(cluster);
  if (bucket.length) objects.push(networkPolicy(namespace, 'backup-bucket', { egress: bucket }));
  objects.push(
    networkPolicy(namespace, 'talos-api', {
      pods: { 'app.kubernetes.io/name': BACKUP_JOBS.etcd },
      egress: [{ peers: controlPlanes(cluster.config).map((node) => peers.cidr(`${node.ip}/32`)), ports: tcp(TALOS_API_PORT) }],
    }),
  );
  if (cluster.config.features.n8n.enabled) {
    objects.push(
      networkPolicy(namespace, 'n8n-database', {
        pods: { ...N8N_DATABASE_CLIENT_LABELS },
        egress: [{ peers: [peers.pods(N8N_NAMESPACE, { ...N8N_POSTGRES.pods })], ports: tcp(N8N_POSTGRES.port) }],
      }),
    );
  }
  for (const plan of backupPlan(cluster.config)) {
    const { app } = plan;
    if (!app || plan.volume) continue;
    objects.push(
      networkPolicy(namespace, `${app.name}-database`, {
        pods: { [APP_DATABASE_CLIENT_LABEL]: app.name },
        egress: [{ peers: [peers.pods(app.namespace, appDatabaseEndpoint(app).pods)], ports: tcp(appDatabaseEndpoint(app).port) }],
      }),
    );
  }
  return objects;
}
