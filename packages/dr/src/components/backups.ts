import { BACKUP_JOBS, N8N_DATABASE_CLIENT_LABELS, type LoadedCluster } from '@groundwork/cluster';
import { configHash, cronJob } from '@groundwork/kube';
import { ENV } from '../runner/settings.ts';
import { MOUNTS, jobApp, namespaceOf } from '../names.ts';
import { n8nEnv, postgresEnv } from '../config/env.ts';
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

/** Room for a dump and its encrypted copy: the database volume's size bounds both. */
const dumpRoom = (cluster: LoadedCluster) => cluster.config.features.n8n.postgres.volumeSize;

export function postgresBackup(cluster: LoadedCluster): object[] {
  const app = jobApp(cluster, BACKUP_JOBS.postgres, 'backup');
  return [
    cronJob(app, {
      schedule: cluster.config.features.dr.postgresSchedule,
      activeDeadlineSeconds: 3600,
      pod: {
        security: podSecurity(),
        labels: { ...N8N_DATABASE_CLIENT_LABELS },
        annotations: annotations(cluster),
        volumes: podVolumes(cluster, dumpRoom(cluster)),
        initContainers: [scriptContainer('dump', 'postgres', 'postgres-dump.sh', postgresEnv(), { cpu: '100m', memory: '64Mi', memoryLimit: '256Mi' })],
        containers: [runnerContainer(cluster, 'store', ['store', 'postgres', `${MOUNTS.work}/${DUMP_FILE}`])],
      },
    }),
  ];
}

export function n8nBackup(cluster: LoadedCluster): object[] {
  const app = jobApp(cluster, BACKUP_JOBS.n8n, 'backup');
  return [
    cronJob(app, {
      schedule: cluster.config.features.dr.n8nSchedule,
      activeDeadlineSeconds: 1800,
      pod: {
        security: podSecurity(),
        labels: { ...N8N_DATABASE_CLIENT_LABELS },
        annotations: annotations(cluster),
        volumes: podVolumes(cluster, '1Gi'),
        // n8n's CLI loads the whole application: the memory of an idle n8n process.
        initContainers: [scriptContainer('export', 'n8n', 'n8n-export.sh', n8nEnv(cluster), { cpu: '100m', memory: '384Mi', memoryLimit: '1Gi' })],
        containers: [runnerContainer(cluster, 'store', ['store', 'n8n', `${MOUNTS.work}/n8n`])],
      },
    }),
  ];
}
