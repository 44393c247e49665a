import { n8nHost, type LoadedCluster } from '@groundwork/cluster';
import { secretKeyRef, type ContainerSpec } from '@groundwork/kube';
import { N8N_DATABASE, N8N_POSTGRES } from '@groundwork/n8n';
import { ENV } from '../runner/settings.ts';
import { MOUNTS, SECRETS } from '../names.ts';

export type Env = NonNullable<ContainerSpec['env']>;

/** Retention as the runner reads it. */
export function retentionText(cluster: LoadedCluster): string {
  const { last, daily, weekly, monthly } = cluster.config.features.dr.retention;
  return `last=${last},daily=${daily},weekly=${weekly},monthly=${monthly}`;
}

/**
 * What every runner container is told: the cluster, its recipients, retention, and the targets. Pods outside
 * the dr namespace (an app volume's archive) cannot mount the volume target: `volumeTarget: false` leaves it out.
 */
export function runnerEnv(cluster: LoadedCluster, options: { volumeTarget?: boolean } = {}): Env {
  const { s3 } = cluster.config.features.dr;
  const volume = options.volumeTarget === false ? undefined : cluster.config.features.dr.volume;
  return {
    [ENV.cluster]: cluster.name,
    [ENV.recipients]: `${MOUNTS.runner}/recipients.txt`,
    [ENV.retention]: retentionText(cluster),
    [ENV.work]: MOUNTS.work,
    HOME: MOUNTS.work,
    ...(volume ? { [ENV.volume]: MOUNTS.volume } : {}),
    ...(s3
      ? {
          [ENV.s3Endpoint]: s3.endpoint,
          [ENV.s3Region]: s3.region,
          [ENV.s3Bucket]: s3.bucket,
          ...(s3.prefix ? { [ENV.s3Prefix]: s3.prefix } : {}),
          [ENV.s3PathStyle]: String(s3.pathStyle),
          ...(s3.caFile ? { [ENV.s3CaFile]: `${MOUNTS.runner}/s3-ca.pem` } : {}),
          [ENV.accessKeyId]: secretKeyRef(SECRETS.s3.name, SECRETS.s3.accessKeyId),
          [ENV.secretAccessKey]: secretKeyRef(SECRETS.s3.name, SECRETS.s3.secretAccessKey),
        }
      : {}),
  };
}

/** Where a database is and who connects to it: the n8n database as the n8n role unless said otherwise. */
export interface DatabaseClient {
  host: string;
  port: number;
  database: string;
  user: string;
  /** Where its password comes from (a Secret key). */
  password: ReturnType<typeof secretKeyRef>;
}

const N8N_CLIENT: DatabaseClient = { host: N8N_POSTGRES.host, port: N8N_POSTGRES.port, database: N8N_DATABASE.name, user: N8N_DATABASE.user, password: secretKeyRef(SECRETS.database.name, SECRETS.database.password) };

/** libpq's variables for a database: n8n's, as the n8n role (owner of everything in it, nothing more), by default. */
export function postgresEnv(client: DatabaseClient = N8N_CLIENT): Env {
  return {
    PGHOST: client.host,
    PGPORT: String(client.port),
    PGDATABASE: client.database,
    PGUSER: client.user,
    PGPASSWORD: client.password,
    [ENV.work]: MOUNTS.work,
  };
}

/** n8n's CLI on the instance's database with the instance's key; its home is the work folder. */
export function n8nEnv(cluster: LoadedCluster): Env {
  const { timezone } = cluster.config.features.n8n;
  return {
    DB_TYPE: 'postgresdb',
    DB_POSTGRESDB_HOST: N8N_POSTGRES.host,
    DB_POSTGRESDB_PORT: String(N8N_POSTGRES.port),
    DB_POSTGRESDB_DATABASE: N8N_DATABASE.name,
    DB_POSTGRESDB_USER: N8N_DATABASE.user,
    DB_POSTGRESDB_PASSWORD: secretKeyRef(SECRETS.database.name, SECRETS.database.password),
    N8N_ENCRYPTION_KEY: secretKeyRef(SECRETS.database.name, SECRETS.database.encryptionKey),
    N8N_USER_FOLDER: `${MOUNTS.work}/n8n-home`,
    N8N_HOST: n8nHost(cluster.config),
    GENERIC_TIMEZONE: timezone,
    TZ: timezone,
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    [ENV.work]: MOUNTS.work,
  };
}
