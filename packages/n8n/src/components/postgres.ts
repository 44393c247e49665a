import type { LoadedCluster } from '@groundwork/cluster';
import { configHash, meta, networkPolicy, postgresStatefulSet, secretKeyRef, selectorLabels, service, tcp } from '@groundwork/kube';
import { INIT_DIR, INIT_SCRIPT, initScript, postgresArgs } from '../config/postgres.ts';
import { NAMESPACE, PORTS, POSTGRES, SECRETS } from '../names.ts';
import { IMAGES } from '../versions.ts';
import { backupClients, n8nPods } from './network.ts';

/** PostgreSQL for n8n: one replica on a volume, the n8n role created on first start. */
export function postgres(cluster: LoadedCluster): object[] {
  const script = initScript();
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(POSTGRES, 'postgres-init'), data: { [INIT_SCRIPT]: script } },
    networkPolicy(NAMESPACE, 'postgres', {
      pods: selectorLabels(POSTGRES),
      ingress: [{ peers: [n8nPods(), ...backupClients(cluster)], ports: tcp(PORTS.postgres) }],
      egress: [],
    }),
    service(POSTGRES, { ports: [{ name: 'postgres', port: PORTS.postgres }] }),
    postgresStatefulSet(POSTGRES, {
      image: IMAGES.postgres,
      singleReplicaReason: 'n8n waits for the database while it restarts; the data stays on its volume and the dr layer backs it up',
      volumeSize: cluster.config.features.n8n.postgres.volumeSize,
      podAnnotations: { 'groundwork.dev/config-hash': configHash(script) },
      args: postgresArgs(cluster),
      env: {
        POSTGRES_PASSWORD: secretKeyRef(SECRETS.postgres.name, SECRETS.postgres.superuser),
        POSTGRES_INITDB_ARGS: '--data-checksums',
        // Read by the init script only, on the first start.
        N8N_DB_PASSWORD: secretKeyRef(SECRETS.postgres.name, SECRETS.postgres.n8n),
      },
      resources: { cpu: '100m', memory: '256Mi', memoryLimit: '1Gi' },
      readyArgs: ['--username=postgres'],
      mounts: [{ name: 'init', mountPath: INIT_DIR, readOnly: true }],
      volumes: [{ name: 'init', configMap: { name: 'postgres-init', defaultMode: 0o555 } }],
    }),
  ];
}
