import { BACKUP_JOBS, N8N_DATABASE_CLIENT_LABELS, type AppSpec, type BackupPlan, type LoadedCluster } from '@groundwork/cluster';
import { APP_DATABASE_CLIENT_LABEL, appDatabaseEndpoint } from '@groundwork/apps';
import { configHash, cronJob, secretKeyRef } from '@groundwork/kube';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { ENV } from '../runner/settings.ts';
import { MOUNTS, SECRETS, jobApp, namespaceOf } from '../names.ts';
import { n8nEnv, postgresEnv, type Env } from '../config/env.ts';
import { podSecurity, podVolumes, runnerContainer, scriptContainer } from '../config/pod.ts';
import { DUMP_FILE } from '../scripts/postgres.ts';
import { runnerFiles } from './runner.ts';

/**
 * The scheduled backups. Each CronJob's pod takes its backup in the tool's own image (Talos API from the
 * runner, pg_dump from PostgreSQL's image, n8n's export from n8n's) into the work folder, and the runner
 * checks, encrypts, stores and prunes it. A failed step fails the Job: kube-state-metrics reports it and the
 * observability layer's alerts fire on a failed or too old backup.
 */

/** The pods pick up a changed program or script on their next run; the hash makes the change visible. */
const annotations = (cluster: LoadedCluster) => ({ 'groundwork.dev/runner-hash': configHash(runnerFiles(cluster)) });

export function etcdBackup(cluster: LoadedCluster): object[] {
  const app = jobApp(cluster, BACKUP_JOBS.etcd, 'backup');
  return [
    // Talos answers this resource with a Secret of the same name: a talosconfig whose certificate carries
    // only the os:etcd:backup role (the machine config allows it for this namespace alone).
    {
      apiVersion: 'talos.dev/v1alpha1',
      kind: 'ServiceAccount',
      metadata: { name: BACKUP_JOBS.etcd, namespace: namespaceOf(cluster), labels: { 'app.kubernetes.io/name': BACKUP_JOBS.etcd, 'app.kubernetes.io/part-of': 'dr' } },
      spec: { roles: ['os:etcd:backup'] },
    },
    cronJob(app, {
      schedule: cluster.config.features.dr.etcdSchedule,
      activeDeadlineSeconds: 1800,
      pod: {
        security: podSecurity(),
        annotations: annotations(cluster),
        // etcd's default quota is 2 GiB: room for the snapshot and its encrypted copy.
        volumes: podVolumes(cluster, '5Gi', [{ name: 'talos', secret: { secretName: BACKUP_JOBS.etcd, defaultMode: 0o440 } }]),
        containers: [
          runnerContainer(cluster, 'snapshot', ['etcd'], {
            env: { [ENV.talosconfig]: `${MOUNTS.talos}/config` },
            mounts: [{ name: 'talos', mountPath: MOUNTS.talos, readOnly: true }],
          }),
        ],
      },
    }),
  ];
}

/**
 * A backup taken by a database client in its tool's image (the first step), then stored by the runner: the
 * shape of n8n's database dump and export, and of an app database's dump. `labels` let the database admit it.
 */
function databaseBackup(cluster: LoadedCluster, options: { job: string; kind: string; labels: Record<string, string>; schedule: string; deadline: number; workSize: string; step: IContainer; stored: string }): object {
  return cronJob(jobApp(cluster, options.job, 'backup'), {
    schedule: options.schedule,
    activeDeadlineSeconds: options.deadline,
    pod: {
      security: podSecurity(),
      labels: options.labels,
      annotations: annotations(cluster),
      volumes: podVolumes(cluster, options.workSize),
      initContainers: [options.step],
      containers: [runnerContainer(cluster, 'store', ['store', options.kind, `${MOUNTS.work}/${options.stored}`])],
    },
  });
}

/** The dump step: pg_dump in the PostgreSQL image, as the role libpq's variables name. */
const dumpStep = (env: Env) => scriptContainer('dump', 'postgres', 'postgres-dump.sh', env, { cpu: '100m', memory: '64Mi', memoryLimit: '256Mi' });

export function postgresBackup(cluster: LoadedCluster): object[] {
  // Room for a dump and its encrypted copy: the database volume's size bounds both.
  const workSize = cluster.config.features.n8n.postgres.volumeSize;
  return [databaseBackup(cluster, { job: BACKUP_JOBS.postgres, kind: 'postgres', labels: { ...N8N_DATABASE_CLIENT_LABELS }, schedule: cluster.config.features.dr.postgresSchedule, deadline: 3600, workSize, step: dumpStep(postgresEnv()), stored: DUMP_FILE })];
}

export function n8nBackup(cluster: LoadedCluster): object[] {
  // n8n's CLI loads the whole application: the memory of an idle n8n process.
  const step = scriptContainer('export', 'n8n', 'n8n-export.sh', n8nEnv(cluster), { cpu: '100m', memory: '384Mi', memoryLimit: '1Gi' });
  return [databaseBackup(cluster, { job: BACKUP_JOBS.n8n, kind: 'n8n', labels: { ...N8N_DATABASE_CLIENT_LABELS }, schedule: cluster.config.features.dr.n8nSchedule, deadline: 1800, workSize: '1Gi', step, stored: 'n8n' })];
}

/**
 * The dump of an app's own PostgreSQL (clusters/<name>/apps/<app>.yaml with `database`): the same pg_dump
 * script and store as n8n's database, as the app's role, with a copy of its password in this namespace.
 */
export function appDatabaseBackup(cluster: LoadedCluster, plan: BackupPlan, app: AppSpec): object[] {
  const db = appDatabaseEndpoint(app);
  const step = dumpStep(postgresEnv({ host: db.host, port: db.port, database: db.database, user: db.user, password: secretKeyRef(SECRETS.appDatabase(app.name), 'password') }));
  // Room for a dump and its encrypted copy: the database volume's size bounds both.
  return [databaseBackup(cluster, { job: plan.job, kind: plan.kind, labels: { [APP_DATABASE_CLIENT_LABEL]: app.name }, schedule: plan.schedule, deadline: 3600, workSize: app.database!.size, step, stored: DUMP_FILE })];
}
