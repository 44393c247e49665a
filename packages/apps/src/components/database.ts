import type { AppSpec, LoadedCluster } from '@groundwork/cluster';
import { networkPolicy, peers, postgresStatefulSet, secretKeyRef, selectorLabels, service, tcp } from '@groundwork/kube';
import { APP_DATABASE_CLIENT_LABEL, POSTGRES_PORT, SECRETS, appOf, databaseEndpoint, databaseOf } from '../names.ts';
import { IMAGES } from '../versions.ts';

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
    postgresStatefulSet(db, {
      image: IMAGES.postgres,
      singleReplicaReason: `${spec.name} waits for its database while it restarts; the data stays on its volume${spec.database?.backup && cluster.config.features.dr.enabled ? ' and dr dumps it' : ''}`,
      volumeSize: spec.database!.size,
      env: {
        POSTGRES_USER: spec.name,
        POSTGRES_DB: spec.name,
        POSTGRES_PASSWORD: secretKeyRef(password.name, password.key),
        POSTGRES_INITDB_ARGS: '--data-checksums',
      },
      resources: { cpu: '50m', memory: '128Mi', memoryLimit: '512Mi' },
    }),
  ];
}
