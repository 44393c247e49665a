import type { AppSpec, LoadedCluster } from '@groundwork/cluster';
import { ANNOTATIONS, container, execProbe, networkPolicy, peers, secretKeyRef, selectorLabels, service, statefulSet, tcp } from '@groundwork/kube';
import { APP_DATABASE_CLIENT_LABEL, POSTGRES_PORT, SECRETS, appOf, databaseEndpoint, databaseOf } from '../names.ts';
import { IMAGES, POSTGRES_USER } from '../versions.ts';

const PGDATA = '/var/lib/postgresql/data/pgdata';
const READY = ['pg_isready', '--host=127.0.0.1', `--port=${POSTGRES_PORT}`, '--quiet'];

/**
 * What the app is told about its database: libpq's variables, and DATABASE_URL built from them (the kubelet
 * expands $(PGPASSWORD), so the password stays in its Secret).
 */
export function databaseEnv(spec: AppSpec): Record<string, string | ReturnType<typeof secretKeyRef>> {
  const db = databaseEndpoint(spec);
  return {
    PGHOST: db.host,
    PGPORT: String(db.port),
    PGDATABASE: db.database,
    PGUSER: db.user,
    PGPASSWORD: secretKeyRef(db.secret.name, db.secret.key),
    DATABASE_URL: `postgres://${db.user}:$(PGPASSWORD)@${db.host}:${db.port}/${db.database}?sslmode=disable`,
  };
}

/** The dr layer's dump jobs for this app, when dr is on and the database is backed up. */
function backupClients(cluster: LoadedCluster, spec: AppSpec) {
  const { dr } = cluster.config.features;
  return dr.enabled && spec.database?.backup ? [peers.pods(dr.namespace, { [APP_DATABASE_CLIENT_LABEL]: spec.name })] : [];
}

/**
 * A PostgreSQL of the app's own: one replica on a volume, the app's role as the owner (the official image
 * creates it, and its database, on the first start). Only the app and dr's dump job reach it.
 */
export function databaseObjects(cluster: LoadedCluster, spec: AppSpec): object[] {
  const db = databaseOf(spec);
  const password = SECRETS.database(spec);
  return [
    networkPolicy(spec.namespace, db.instance!, {
      pods: selectorLabels(db),
      ingress: [{ peers: [peers.pods(spec.namespace, selectorLabels(appOf(spec))), ...backupClients(cluster, spec)], ports: tcp(POSTGRES_PORT) }],
      egress: [],
    }),
    service(db, { ports: [{ name: 'postgres', port: POSTGRES_PORT }] }),
    statefulSet(db, {
      replicas: 1,
      annotations: { [ANNOTATIONS.singleReplicaReason]: `${spec.name} waits for its database while it restarts; the data stays on its volume${spec.database?.backup && cluster.config.features.dr.enabled ? ' and dr dumps it' : ''}` },
      volumeClaims: [{ name: 'data', size: spec.database!.size }],
      pod: {
        security: { runAsNonRoot: true, runAsUser: POSTGRES_USER, runAsGroup: POSTGRES_USER, fsGroup: POSTGRES_USER, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          container({
            name: 'postgres',
            image: IMAGES.postgres,
            env: {
              PGDATA,
              POSTGRES_USER: spec.name,
              POSTGRES_DB: spec.name,
              POSTGRES_PASSWORD: secretKeyRef(password.name, password.key),
              POSTGRES_INITDB_ARGS: '--data-checksums',
            },
            ports: { postgres: POSTGRES_PORT },
            resources: { cpu: '50m', memory: '128Mi', memoryLimit: '512Mi' },
            startup: execProbe(READY, { periodSeconds: 5, failureThreshold: 120 }),
            readiness: execProbe(READY, { periodSeconds: 10 }),
            liveness: execProbe(READY, { periodSeconds: 30, failureThreshold: 6 }),
            // A fast shutdown rolls back open transactions instead of waiting for pooled connections to close.
            lifecycle: { preStop: { exec: { command: ['pg_ctl', 'stop', `--pgdata=${PGDATA}`, '--mode=fast', '--wait'] } } },
            mounts: [
              { name: 'data', mountPath: '/var/lib/postgresql/data' },
              { name: 'run', mountPath: '/var/run/postgresql' },
              { name: 'tmp', mountPath: '/tmp' },
            ],
          }),
        ],
        volumes: [
          { name: 'run', emptyDir: {} },
          { name: 'tmp', emptyDir: {} },
        ],
        spec: { terminationGracePeriodSeconds: 60 },
      },
    }),
  ];
}
