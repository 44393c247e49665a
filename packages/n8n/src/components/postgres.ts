import type { LoadedCluster } from '@groundwork/cluster';
import { ANNOTATIONS, configHash, container, execProbe, meta, networkPolicy, secretKeyRef, selectorLabels, service, statefulSet, tcp } from '@groundwork/kube';
import { INIT_DIR, INIT_SCRIPT, PGDATA, initScript, postgresArgs } from '../config/postgres.ts';
import { NAMESPACE, PORTS, POSTGRES, SECRETS } from '../names.ts';
import { IMAGES } from '../versions.ts';
import { backupClients, n8nPods } from './network.ts';

/** The postgres user of the official (Debian) image. */
const POSTGRES_USER = 999;
export const PRESTOP = ['pg_ctl', 'stop', `--pgdata=${PGDATA}`, '--mode=fast', '--wait'];
const READY = ['pg_isready', '--host=127.0.0.1', `--port=${PORTS.postgres}`, '--username=postgres', '--quiet'];

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
    statefulSet(POSTGRES, {
      replicas: 1,
      annotations: { [ANNOTATIONS.singleReplicaReason]: 'n8n waits for the database while it restarts; the data stays on its volume and the dr layer backs it up' },
      volumeClaims: [{ name: 'data', size: cluster.config.features.n8n.postgres.volumeSize }],
      pod: {
        annotations: { 'groundwork.dev/config-hash': configHash(script) },
        security: { runAsNonRoot: true, runAsUser: POSTGRES_USER, runAsGroup: POSTGRES_USER, fsGroup: POSTGRES_USER, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          container({
            name: 'postgres',
            image: IMAGES.postgres,
            args: postgresArgs(cluster),
            env: {
              PGDATA,
              POSTGRES_PASSWORD: secretKeyRef(SECRETS.postgres.name, SECRETS.postgres.superuser),
              POSTGRES_INITDB_ARGS: '--data-checksums',
              // Read by the init script only, on the first start.
              N8N_DB_PASSWORD: secretKeyRef(SECRETS.postgres.name, SECRETS.postgres.n8n),
            },
            ports: { postgres: PORTS.postgres },
            resources: { cpu: '100m', memory: '256Mi', memoryLimit: '1Gi' },
            // The first start initialises the data directory behind a socket-only server: not ready until it listens.
            startup: execProbe(READY, { periodSeconds: 5, failureThreshold: 120 }),
            readiness: execProbe(READY, { periodSeconds: 10 }),
            liveness: execProbe(READY, { periodSeconds: 30, failureThreshold: 6 }),
            // SIGTERM asks for a "smart" shutdown, which waits for n8n's pooled connections to close (they never
            // do) until the kubelet kills it; a fast shutdown rolls back open transactions and stops cleanly.
            lifecycle: { preStop: { exec: { command: PRESTOP } } },
            mounts: [
              { name: 'data', mountPath: '/var/lib/postgresql/data' },
              { name: 'run', mountPath: '/var/run/postgresql' },
              { name: 'tmp', mountPath: '/tmp' },
              { name: 'init', mountPath: INIT_DIR, readOnly: true },
            ],
          }),
        ],
        volumes: [
          { name: 'run', emptyDir: {} },
          { name: 'tmp', emptyDir: {} },
          { name: 'init', configMap: { name: 'postgres-init', defaultMode: 0o555 } },
        ],
        spec: { terminationGracePeriodSeconds: 60 },
      },
    }),
  ];
}
