import type { AppSpec } from '@groundwork/cluster';
import { POSTGRES_PORT, imageTag, selectorLabels, type App } from '@groundwork/kube';
import { IMAGES } from './versions.ts';

export const LAYER = 'apps';
export { POSTGRES_PORT };

/** The label dr's dump job for an app carries (value: the app's name); the app's database admits it. */
export const APP_DATABASE_CLIENT_LABEL = 'groundwork.dev/app-database-client';

/** The labels and names of an app's own workload. */
export const appOf = (spec: AppSpec): App => ({ name: spec.name, namespace: spec.namespace, component: 'app', partOf: spec.name, version: imageTag(spec.image) });

/** Its database: `<app>-postgres`, in the app's namespace. */
export const databaseOf = (spec: AppSpec): App => ({ name: 'postgres', instance: `${spec.name}-postgres`, namespace: spec.namespace, component: 'database', partOf: spec.name, version: imageTag(IMAGES.postgres) });

/**
 * The SOPS Secrets of an app (clusters/<name>/secrets/<namespace>/): its own values, and its database's
 * password. The database name and role are the app's name.
 */
export const SECRETS = {
  app: (spec: AppSpec) => spec.name,
  database: (spec: AppSpec) => ({ name: `${spec.name}-postgres`, key: 'password' }),
} as const;

/** The PersistentVolumeClaim of an app's volume (dr's archive job mounts it by this name). */
export const volumeClaim = (spec: Pick<AppSpec, 'name'>, volume: string) => `${spec.name}-${volume}`;

/** How dr reaches an app's database: host, port, database, role, and the Secret with its password. */
export function databaseEndpoint(spec: AppSpec) {
  return {
    host: `${spec.name}-postgres.${spec.namespace}.svc`,
    port: POSTGRES_PORT,
    database: spec.name,
    user: spec.name,
    secret: SECRETS.database(spec),
    /** The labels of the database's pods, for network policies. */
    pods: selectorLabels(databaseOf(spec)),
  };
}
