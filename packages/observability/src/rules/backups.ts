import type { LoadedCluster } from '@groundwork/cluster';
import type { AlertRule, RuleGroup } from './model.ts';

/** The CronJobs the dr layer runs (their names are the contract between the two layers). */
export const BACKUP_JOBS = { etcd: 'etcd-snapshot', postgres: 'postgres-backup' } as const;

/** How often a cron schedule runs, in seconds, for the common shapes; a day when it is not obvious. */
export function cronInterval(schedule: string): number {
  const [minute, hour, dom, month, dow] = schedule.trim().split(/\s+/);
  const every = (field: string | undefined) => /^\*\/(\d+)$/.exec(field ?? '')?.[1];
  if (every(minute) && hour === '*') return Number(every(minute)) * 60;
  if (/^\d+$/.test(minute ?? '') && every(hour)) return Number(every(hour)) * 3600;
  if (/^\d+$/.test(minute ?? '') && hour === '*') return 3600;
  if (/^\d+$/.test(minute ?? '') && /^\d+$/.test(hour ?? '') && dom === '*' && month === '*' && /^\d$/.test(dow ?? '')) return 7 * 86400;
  return 86400;
}

function tooOld(alert: string, namespace: string, job: string, schedule: string): AlertRule {
  // Twice the interval plus an hour: one missed run is tolerated, two are not.
  const limit = 2 * cronInterval(schedule) + 3600;
  const series = `kube_cronjob_status_last_successful_time{job="kube-state-metrics",instance="kube-state-metrics.observability.svc:8080",namespace="${namespace}",cronjob="${job}"}`;
  const atMinutes = Math.ceil(limit / 60) + 10;
  return {
    alert,
    expr: `time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{namespace="${namespace}",cronjob="${job}"}) > ${limit}`,
    severity: 'critical',
    summary: 'The last good {{ $labels.cronjob }} backup is too old',
    description: `{{ $labels.namespace }}/{{ $labels.cronjob }} has not succeeded for more than ${Math.round(limit / 3600)} hours (it runs on "${schedule}").`,
    fires: { series: [[series, `0x${atMinutes}`]], at: `${atMinutes}m`, labels: [{ namespace, cronjob: job }] },
    quiet: { series: [[series, `0+60x${atMinutes}`]], at: `${atMinutes}m` },
  };
}

/** Backups the dr layer takes: each one recent, and no failed backup job. */
export function backupRules(cluster: LoadedCluster): RuleGroup {
  const { dr, n8n } = cluster.config.features;
  const rules: AlertRule[] = [tooOld('EtcdBackupTooOld', dr.namespace, BACKUP_JOBS.etcd, dr.etcdSchedule)];
  if (n8n.enabled) rules.push(tooOld('PostgresBackupTooOld', dr.namespace, BACKUP_JOBS.postgres, dr.postgresSchedule));
  const failed = `kube_job_status_failed{job="kube-state-metrics",instance="kube-state-metrics.observability.svc:8080",namespace="${dr.namespace}",job_name="etcd-snapshot-29000000"}`;
  rules.push({
    alert: 'BackupJobFailed',
    expr: `kube_job_status_failed{namespace="${dr.namespace}"} > 0`,
    severity: 'warning',
    summary: 'Backup job {{ $labels.job_name }} failed',
    description: 'Job {{ $labels.namespace }}/{{ $labels.job_name }} failed; its logs are in Loki ({namespace="{{ $labels.namespace }}"}).',
    fires: { series: [[failed, '0 1x5']], at: '5m', labels: [{ job: 'kube-state-metrics', instance: 'kube-state-metrics.observability.svc:8080', namespace: dr.namespace, job_name: 'etcd-snapshot-29000000' }] },
    quiet: { series: [[failed, '0x5']], at: '5m' },
  });
  return { file: 'backups', name: 'backups', rules };
}
