import { allowedAgeSeconds } from './cron.ts';
import type { AppSpec } from './apps.ts';
import type { Cluster } from './schema.ts';

/**
 * What the dr layer backs up, as the other layers need to know it: the CronJob names (observability's
 * alerts read their status), the label of the pods that talk to n8n's database (n8n's network policy admits
 * them), and how old each kind's newest backup may be. One definition, read by every layer.
 */

export const BACKUP_KINDS = ['etcd', 'postgres', 'n8n'] as const;
export type BackupKind = (typeof BACKUP_KINDS)[number];

export const BACKUP_JOBS: Record<BackupKind, string> = { etcd: 'etcd-snapshot', postgres: 'postgres-backup', n8n: 'n8n-export' };

/** dr pods that connect to n8n's PostgreSQL (backups, exports, restores) carry this label. */
export const N8N_DATABASE_CLIENT_LABELS = { 'groundwork.dev/n8n-database-client': 'true' } as const;

/** An app's database (clusters/<name>/apps/<app>.yaml with `database`): its dumps are kind db-<app>. */
export type AppDatabaseKind = `db-${string}`;

export const appDatabaseKind = (app: string): AppDatabaseKind => `db-${app}`;
/** An app's volume: archives of kind vol-<app>-<volume>, taken in the app's namespace (the claim is there). */
export type AppVolumeKind = `vol-${string}`;
export const appVolumeKind = (app: string, volume: string): AppVolumeKind => `vol-${app}-${volume}`;
export const appVolumeJob = (app: string, volume: string) => `${app}-${volume}-backup`;
/** The CronJob that dumps an app's database, in the dr namespace. */
export const appDatabaseJob = (app: string) => `${app}-db-backup`;

export interface BackupPlan {
  kind: BackupKind | AppDatabaseKind | AppVolumeKind;
  /** The app whose database or volume this is. */
  app?: AppSpec;
  /** The volume, for kind vol-<app>-<volume>. */
  volume?: string;
  /** Where the CronJob runs: the dr namespace, or an app's (its volumes' claims are there). */
  namespace: string;
  /** The CronJob that takes it. */
  job: string;
  schedule: string;
  /** The newest good backup older than this is an alert, a failed live check and a failed drill. */
  allowedAgeSeconds: number;
  description: string;
}

/** The backups a cluster takes: etcd always, the n8n database and exports when n8n runs, each app's database and volumes. None without dr. */
export function backupPlan(cluster: Cluster): BackupPlan[] {
  const { dr, n8n } = cluster.features;
  if (!dr.enabled) return [];
  const plan = (kind: BackupKind, schedule: string, description: string): BackupPlan => ({ kind, namespace: dr.namespace, job: BACKUP_JOBS[kind], schedule, allowedAgeSeconds: allowedAgeSeconds(schedule), description });
  const out = [plan('etcd', dr.etcdSchedule, 'etcd snapshot through the Talos API')];
  if (n8n.enabled) {
    out.push(plan('postgres', dr.postgresSchedule, 'dump of the n8n database (pg_dump custom format)'));
    out.push(plan('n8n', dr.n8nSchedule, 'n8n workflows and credentials (n8n export, credentials still encrypted)'));
  }
  for (const app of cluster.apps ?? []) {
    if (!app.database?.backup) continue;
    const schedule = dr.postgresSchedule;
    out.push({ kind: appDatabaseKind(app.name), app, namespace: dr.namespace, job: appDatabaseJob(app.name), schedule, allowedAgeSeconds: allowedAgeSeconds(schedule), description: `dump of ${app.name}'s database (pg_dump custom format)` });
  }
  for (const app of cluster.apps ?? []) {
    if (!dr.s3) break;
    for (const [volume, spec] of Object.entries(app.volumes)) {
      if (!spec.backup) continue;
      const schedule = dr.postgresSchedule;
      out.push({ kind: appVolumeKind(app.name, volume), app, volume, namespace: app.namespace, job: appVolumeJob(app.name, volume), schedule, allowedAgeSeconds: allowedAgeSeconds(schedule), description: `archive of ${app.name}'s volume ${volume} (tar.gz)` });
    }
  }
  return out;
}
