import type { LoadedCluster } from '@groundwork/cluster';
import type { App } from '@groundwork/kube';

export const LAYER = 'dr';

export const namespaceOf = (cluster: LoadedCluster) => cluster.config.features.dr.namespace;

/** The ConfigMap holding the runner bundle and the scripts, mounted read-only at MOUNTS.runner. */
export const RUNNER_CONFIG = 'dr-runner';

/** Where things are inside the Jobs' containers. */
export const MOUNTS = {
  runner: '/opt/dr',
  work: '/work',
  volume: '/backups',
  talos: '/var/run/secrets/talos.dev',
  identity: '/var/run/secrets/dr',
} as const;

/** The PersistentVolumeClaim of the volume target. */
export const VOLUME_CLAIM = 'backups';

/** The Secrets of the dr namespace (SOPS-encrypted in clusters/<name>/secrets/<namespace>/). */
export const SECRETS = {
  s3: { name: 'backup-s3', accessKeyId: 'access-key-id', secretAccessKey: 'secret-access-key' },
  database: { name: 'n8n-database', password: 'password', encryptionKey: 'encryption-key' },
  /** A copy of an app database's password (key `password`), for its dump job. */
  appDatabase: (app: string) => `${app}-database`,
} as const;

/** A dr Job or CronJob, labelled as part of the dr layer. */
export const jobApp = (cluster: LoadedCluster, name: string, component: string): App => ({ name, namespace: namespaceOf(cluster), component, partOf: 'dr' });
